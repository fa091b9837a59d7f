"""Header checks per input file, on the driver: whole-file rejection before any row is read.

Only the first bytes of a file are read (the probe); that is enough to tell an empty, binary or
non-UTF-8 file or a header without the required columns, and to map columns by name. A `.gz`
file's probe is its first bytes decompressed (Spark reads gzip by the extension). Lines end in
LF, CRLF or CR alone, as Hadoop's line reader splits them.
"""

import codecs
import csv
import re
import zlib
from dataclasses import dataclass

from movies_quality.columns import SOURCE_COLUMNS

PROBE_BYTES = 1 << 20
BYTE_ORDER_MARK = "\ufeff"
LINE_BREAK = re.compile(r"\r\n|\r|\n")
GZIP_SUFFIX = ".gz"
# Java exceptions that are a verdict on the file (it is gone); any other read error (throttling,
# timeout, 5xx) is transient and fails the job, so that Airflow retries it.
PERMANENT_READ_ERRORS = ("java.io.FileNotFoundException",)


class FileRejected(ValueError):
    """The whole file cannot be loaded; the message names the file and the reason."""


@dataclass(frozen=True)
class FileLayout:
    """One input file: where it is, what it is called in outputs and how its columns are laid out."""

    index: int
    input_uri: str
    source_object: str
    header: tuple[str, ...] = ()
    error: str | None = None
    # The file as Spark's scan names it in `_metadata.file_path` (the Hadoop FileStatus path).
    scan_path: str | None = None
    # Its size as stored (compressed for .csv.gz), for sizing the job's shuffles.
    stored_bytes: int = 0

    @property
    def positions(self) -> dict[str, int]:
        """Lower-cased seed column name -> its position in this file's header."""
        by_name = {name.lower(): position for position, name in enumerate(self.header)}
        return {name.lower(): by_name[name.lower()] for name in SOURCE_COLUMNS}


def parse_header(probe: bytes, file_size: int, source_object: str) -> tuple[str, ...]:
    """The header names of a file from its first bytes, or FileRejected saying why there are none."""
    if file_size == 0 or not probe.strip():
        raise FileRejected(f"{source_object}: file is empty (no header line)")
    nul_offset = probe.find(b"\x00")
    if nul_offset >= 0:
        raise FileRejected(f"{source_object}: not CSV text (binary NUL byte at offset {nul_offset})")
    try:
        # An incremental decoder accepts a multi-byte character cut off at the end of the probe.
        text = codecs.getincrementaldecoder("utf-8")().decode(probe, final=len(probe) >= file_size)
    except UnicodeDecodeError as error:
        line = probe[: error.start].count(b"\n") + 1
        raise FileRejected(
            f"{source_object}: not UTF-8 text (byte 0x{probe[error.start]:02x} at offset {error.start}, line {line})"
        ) from None
    if not LINE_BREAK.search(text) and len(probe) < file_size:
        raise FileRejected(f"{source_object}: no line break in the first {len(probe)} bytes: not CSV text")
    first_line = LINE_BREAK.split(text, maxsplit=1)[0].removeprefix(BYTE_ORDER_MARK)
    if not first_line.strip():
        raise FileRejected(f"{source_object}: line 1 is blank: the header is missing")
    try:
        names = next(csv.reader([first_line]))
    except csv.Error as error:
        raise FileRejected(f"{source_object}: header line 1 is not CSV ({error})") from None
    header = tuple(name.strip() or f"column_{position + 1}" for position, name in enumerate(names))
    _check_header(header, source_object)
    return header


def _check_header(header: tuple[str, ...], source_object: str) -> None:
    lowered = [name.lower() for name in header]
    repeated = sorted({name for name in header if lowered.count(name.lower()) > 1})
    if repeated:
        raise FileRejected(f"{source_object}: header line 1 repeats columns: {', '.join(repeated)}")
    missing = [name for name in SOURCE_COLUMNS if name.lower() not in lowered]
    if missing:
        raise FileRejected(
            f"{source_object}: header line 1 lacks required columns: {', '.join(missing)} (found: {', '.join(header)})"
        )


def decompress_probe(probe: bytes, file_size: int, source_object: str) -> tuple[bytes, int]:
    """The first PROBE_BYTES of a gzip file's text and the size to judge them by.

    The size is the text's own length once the whole stream is decoded, else one more byte than
    the probe (there is more text than was read).
    """
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        text = decompressor.decompress(probe, PROBE_BYTES)
    except zlib.error as error:
        raise FileRejected(f"{source_object}: not gzip data ({error})") from None
    if not text and not decompressor.eof and len(probe) >= file_size:
        raise FileRejected(f"{source_object}: not gzip data (truncated stream)")
    whole = decompressor.eof and len(probe) >= file_size
    return text, len(text) if whole else len(text) + 1


def read_probe(spark, uri: str) -> tuple[bytes, int, str]:
    """The first PROBE_BYTES of a file, its size and its scan path, via Hadoop FileSystem (file://, s3://)."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    file_system = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    status = file_system.getFileStatus(path)
    size = status.getLen()
    stream = file_system.open(path)
    try:
        return bytes(stream.readNBytes(min(size, PROBE_BYTES))), size, status.getPath().toUri().toString()
    finally:
        stream.close()


def inspect_files(spark, input_uris: list[str], source_objects: list[str]) -> list[FileLayout]:
    """A layout per input file; a file that cannot be loaded carries its error instead of a header."""
    from py4j.protocol import Py4JJavaError

    layouts = []
    for index, (uri, source_object) in enumerate(zip(input_uris, source_objects, strict=True)):
        try:
            probe, size, scan_path = read_probe(spark, uri)
            stored_bytes = size
            if uri.lower().endswith(GZIP_SUFFIX):
                probe, size = decompress_probe(probe, size, source_object)
            header = parse_header(probe, size, source_object)
            layouts.append(
                FileLayout(index, uri, source_object, header, scan_path=scan_path, stored_bytes=stored_bytes)
            )
        except FileRejected as rejection:
            layouts.append(FileLayout(index, uri, source_object, error=str(rejection)))
        except Py4JJavaError as error:
            if not is_permanent_read_error(spark, error.java_exception):
                raise
            reason = error.java_exception.toString()
            layouts.append(FileLayout(index, uri, source_object, error=f"{source_object}: cannot be read: {reason}"))
    return layouts


def is_permanent_read_error(spark, java_exception) -> bool:
    """True when the exception says the file itself cannot be read (it is gone), not the store's weather."""
    java_class = spark.sparkContext._jvm.java.lang.Class
    return any(java_class.forName(name).isInstance(java_exception) for name in PERMANENT_READ_ERRORS)
