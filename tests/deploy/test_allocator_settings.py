"""The served process's memory settings are the same on EC2 (photos-web) and Elastic Beanstalk."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_elastic_beanstalk_serves_with_the_allocator_settings_of_photos_web():
    script = (ROOT / "Deploy" / "bin" / "photos-web").read_text()
    served = dict(re.findall(r'^export ((?:MALLOC|PILLOW)_\w+)="\$\{\1:-([^}]*)\}"', script, re.M))
    config = ROOT / "Deploy" / "elasticbeanstalk" / "bundle" / ".ebextensions" / "photos.config"
    options = yaml.safe_load(config.read_text())["option_settings"]
    environment = options["aws:elasticbeanstalk:application:environment"]

    assert set(served) == {"MALLOC_MMAP_THRESHOLD_", "PILLOW_BLOCK_SIZE", "PILLOW_BLOCKS_MAX"}
    assert {name: environment.get(name) for name in served} == served
