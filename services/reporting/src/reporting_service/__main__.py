import sys

from reporting_service.cli import main

sys.exit(main())
