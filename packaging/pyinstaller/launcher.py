"""Entry script of the PyInstaller bundle: the same ``main()`` as the ``aldesk`` console script."""

import sys

from aldesk.cli import main

if __name__ == "__main__":
    sys.exit(main())
