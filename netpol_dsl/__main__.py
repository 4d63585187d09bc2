"""``python -m netpol_dsl`` runs the ``netpol`` command line."""

from netpol_dsl.cli import main

if __name__ == "__main__":
    main()
