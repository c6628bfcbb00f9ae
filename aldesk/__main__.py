import sys

from aldesk.cli import main

sys.exit(main())
