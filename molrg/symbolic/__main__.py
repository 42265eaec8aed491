"""``python -m molrg.symbolic [--check]``: regenerate (or check) ``molrg/_generated.py``."""

from .codegen import main

raise SystemExit(main())
