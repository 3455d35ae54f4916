"""`python -m server.cli`: the `taizhang` command run from a checkout."""

from server.cli import main

if __name__ == "__main__":
    main()
