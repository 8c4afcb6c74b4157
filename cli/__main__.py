"""``python -m onewindow.cli`` is the ``onewindow`` command."""

from .main import main

main()
