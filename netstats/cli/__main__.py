import sys

from netstats.cli import main

sys.exit(main())
