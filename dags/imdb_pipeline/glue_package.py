"""The Glue job's transform package as a zip for `--extra-py-files`."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

# Fixed timestamps make the archive's bytes depend on the sources only.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def build_zip(package_dir: Path) -> bytes:
    """Zip a package directory (its .py files, under the package's name) reproducibly."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(package_dir.rglob("*.py")):
            arcname = str(Path(package_dir.name) / path.relative_to(package_dir))
            info = zipfile.ZipInfo(arcname, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def publish(s3_client: Any, package_dir: Path, bucket: str, key: str) -> str:
    """Upload the package's zip to s3://bucket/key (replacing it); returns that URI."""
    s3_client.put_object(Bucket=bucket, Key=key, Body=build_zip(package_dir))
    return f"s3://{bucket}/{key}"
