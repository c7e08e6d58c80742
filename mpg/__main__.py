import sys

from mpg.cli import main

sys.exit(main())
