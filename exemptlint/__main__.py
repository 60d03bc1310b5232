import sys

from exemptlint.cli import main

sys.exit(main())
