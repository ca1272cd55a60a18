"""Elastic Beanstalk entry point: the WSGI app of FlaskApp/application.py, loaded by path."""

import runpy
import sys
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent / "FlaskApp"
sys.path.insert(0, str(APP_DIR))
# Loaded by path: importing it by name would find this module, which has the same name.
application = runpy.run_path(str(APP_DIR / "application.py"))["application"]
