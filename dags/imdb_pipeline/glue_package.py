"""The Glue job's code as Glue runs it: the entry script, and its transform package as a zip for
`--extra-py-files`."""

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


ENTRY_SCRIPT = "movies_quality_ingestion.py"
PACKAGE = "movies_quality"


def publish(s3_client: Any, glue_dir: Path, bucket: str, prefix: str) -> dict:
    """Upload the entry script and the package zip under s3://bucket/prefix (replacing them).

    Returns their URIs: `script` for the job's ScriptLocation, `package` for `--extra-py-files`.
    """
    script_key, package_key = f"{prefix}{ENTRY_SCRIPT}", f"{prefix}{PACKAGE}.zip"
    s3_client.put_object(Bucket=bucket, Key=script_key, Body=(glue_dir / ENTRY_SCRIPT).read_bytes())
    s3_client.put_object(Bucket=bucket, Key=package_key, Body=build_zip(glue_dir / PACKAGE))
    return {"script": f"s3://{bucket}/{script_key}", "package": f"s3://{bucket}/{package_key}"}
