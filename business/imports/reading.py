"""Reading: a CSV (UTF-8, BOM or not) or the first sheet of an XLSX workbook as ``(row_number, cells)``, streamed.

Every cell comes out as ``str``. Anything the file's format cannot deliver raises ``FileError`` naming the row (and the
column where known); nothing else escapes, whatever the bytes.
"""

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import BinaryIO

from business.imports.results import COLUMNS, FileError

Rows = Iterator[tuple[int, list[str]]]


def read_rows(file: BinaryIO, file_format: str) -> Rows:
    return xlsx_rows(file) if file_format == "xlsx" else csv_rows(file)


def csv_rows(file: BinaryIO) -> Rows:
    """Yield ``(row_number, cells)`` from a UTF-8 CSV, decoded as a stream.

    On a byte that is not UTF-8 the file is read again, line by line, to say which row and byte.
    """
    start = file.tell()
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        yield from enumerate(reader, start=1)
    except UnicodeDecodeError:
        text.detach()
        text = None
        raise _encoding_error(file, start) from None
    except csv.Error as e:
        raise FileError(f"the file is not valid CSV ({e})", row=reader.line_num or None) from None
    finally:
        if text is not None:
            text.detach()  # leave the caller's file open


def _encoding_error(file: BinaryIO, start: int) -> FileError:
    file.seek(start)
    offset = 0
    for line_no, raw in enumerate(file, start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            index = raw[: e.start].count(b",")
            return FileError(
                f"the file is not UTF-8: byte 0x{raw[e.start]:02X} at byte offset {offset + e.start} cannot be "
                'decoded. Save the file as "CSV UTF-8" and upload it again.',
                row=line_no,
                column=COLUMNS[index] if index < len(COLUMNS) else "",
            )
        offset += len(raw)
    return FileError('the file is not UTF-8. Save it as "CSV UTF-8" and upload it again.')


def xlsx_rows(file: BinaryIO) -> Rows:
    """Yield ``(row_number, cells)`` from the first sheet of an XLSX workbook, read-only (streamed).

    openpyxl raises all sorts of exceptions on a damaged or hand-made workbook (bad XML, a number too long for
    ``int()``, an impossible date, a missing shared string, …), hence the broad ``except``: they all mean "this
    workbook cannot be read from here on", which we report with the row reached.
    """
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception as e:  # noqa: BLE001 (see the docstring)
        raise FileError(f"The file is not a valid XLSX workbook ({e.__class__.__name__}).") from None
    row_no = 0
    try:
        for row_no, values in enumerate(sheet.iter_rows(values_only=True), start=1):  # noqa: B007 (used below)
            yield row_no, [xlsx_text(v) for v in values]
    except FileError:
        raise
    except Exception as e:  # noqa: BLE001 (see the docstring)
        raise FileError(
            f"The workbook cannot be read from here on: a cell is not valid ({e.__class__.__name__}).", row=row_no + 1
        ) from None
    finally:
        workbook.close()


def xlsx_text(value: object) -> str:
    """A spreadsheet cell as text, without float rounding (0.1 stays "0.1") and with dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)  # nan / inf: not integers, repr 'nan' / 'inf'
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            return "(a number too long to read)"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() and value.tzinfo is None else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)
