"""The register export (台账): one sheet per group (named by the group), or per town for a county, one row per person
grouped by household, codes in words, streamed row by row."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools
from collections.abc import Iterable
from typing import BinaryIO, NamedTuple

from reports.workbook import (
    ColumnWidths,
    RowStream,
    excel_serial,
    group_sheet_names,
    is_plain_row,
    new_workbook,
    print_setup,
    sheet_name,
    standard_formats,
    text_cell,
    text_width,
    write_title,
)
from sync.code_labels import code_label

__all__ = ["HEADERS", "CODE_LISTS", "PersonRow", "GroupRows", "build_register_export", "register_export_bytes"]

HEADERS = ("户号 Household no.", "地址 Address", "姓名 Name", "性别 Sex", "出生日期 Birth date", "身份证号 ID number",
           "与户主关系 Relationship", "电话 Phone", "居住 Lives", "户籍 Hukou", "状态 Status", "服务分级 Tier")
# The columns holding codes, by their choice list (sync.code_labels): shown in words, a value no list knows as written.
CODE_LISTS = {"sex": "sex", "relationship": "relationship", "lives": "residence", "hukou": "hukou",
              "status": "status", "tier": "tier"}
_DATE_COL = HEADERS.index("出生日期 Birth date")
_INDEX = "目录 Index"
_TOWN_LEAD = ("村 Village", "小组 Group")      # a town's sheet (a county's export): the columns before the person's
_INDEX_HEADERS = ("镇 Town", "村 Village", "小组 Group", "工作表 Sheet", "人数 People", "户数 Households")


class PersonRow(NamedTuple):
    """One person as the register shows them; members of a household come one after another (a named tuple: a
    county makes 800,000 of them)."""

    household_no: str
    address: str
    name: str
    sex: str
    birth_date: dt.date | None
    id_number: str
    relationship: str
    phone: str
    lives: str              # codes (CODE_LISTS), shown in words
    hukou: str
    status: str
    tier: str


@dataclasses.dataclass(frozen=True)
class GroupRows:
    """One group (its own name, e.g. 第一组) and its people, ordered by household; `people` may be a one-pass
    iterator."""

    town: str
    village: str
    group: str
    people: Iterable[PersonRow]
    sheet: str = ""         # its sheet's name (reports.workbook.group_sheet_names of every group to come), or ""


class _Words:
    """The words of a row's code columns in a language (sex, relationship, lives, hukou, status, tier), each set of
    codes looked up once (a county has 800,000 rows and a few hundred sets), with how wide each word prints."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.known: dict[tuple, tuple[tuple[str, ...], tuple[int, ...]]] = {}

    def __call__(self, codes: tuple) -> tuple[tuple[str, ...], tuple[int, ...]]:
        found = self.known.get(codes)
        if found is None:
            words = tuple((code_label(list_name, code, self.language) or code) if code else ""
                          for list_name, code in zip(_CODE_LISTS, codes))
            found = self.known[codes] = (words, tuple(text_width(word) for word in words))
        return found


_CODE_LISTS = tuple(CODE_LISTS[field] for field in ("sex", "relationship", "lives", "hukou", "status", "tier"))
_SEPARATOR = "\ue000"      # between a row's texts run together for one check (`is_plain_row`)
_EARLIEST_SERIAL = dt.date(1900, 3, 1)      # before it Excel's serial dates are off by one (its 29 February 1900)


class _Sheet:
    """One sheet of people being written: its title and header rows, then one row a person through a RowStream, the
    widest value of each column seen; `lead` columns (village and group, on a town's sheet) before the person's."""

    def __init__(self, workbook, formats, styles, name: str, title: str, subtitle: str, lead: tuple[str, ...],
                 town: str):
        self.worksheet = workbook.add_worksheet(name)
        self.title, self.lead, self.styles, self.town = title, lead, styles, town
        self.headers = (*lead, *HEADERS)
        self.date_col = len(lead) + _DATE_COL
        self.widths = ColumnWidths()
        self.widths.see_headers(0, self.headers)
        self.widths.see(self.date_col, dt.date.min)
        self.seen = [0] * len(self.headers)
        self.codes_seen: set[tuple] = set()          # the sets of codes of the sheet's rows so far (their widths seen)
        self.code_cols = tuple(len(lead) + col for col in (3, 6, 8, 9, 10, 11))
        write_title(self.worksheet, formats, title, subtitle)
        self.worksheet.set_row(2, self.widths.height(self.headers))
        self.worksheet.write_row(2, 0, self.headers, formats.header)
        self.rows = RowStream(self.worksheet, 3, len(self.headers))
        letters = self.rows.letters
        self.before, self.date_letter, self.after = letters[:self.date_col], letters[self.date_col], \
            letters[self.date_col + 1:]

    def see_lead(self, lead: tuple[str, ...]) -> None:
        """The lead columns' values of the rows to come (a group's village and group)."""
        for col, value in enumerate(lead):
            self.seen[col] = max(self.seen[col], text_width(value))

    def person(self, person: PersonRow, words: _Words, new_household: bool, lead: tuple[str, ...] = ()) -> int:
        """Write a person's row (its lead cells' values `lead`); returns its row number."""
        text, date = self.styles[new_household]
        (household_no, address, name, sex, birth_date, id_number, relationship, phone, lives, hukou, status,
         tier) = person
        codes = (sex, relationship, lives, hukou, status, tier)
        (sex, relationship, lives, hukou, status, tier), code_widths = words(codes)
        before = (*lead, household_no or "", address or "", name or "", sex)
        after = (id_number or "", relationship, phone or "", lives, hukou, status, tier)
        seen, offset = self.seen, len(lead)
        for col, value in ((offset, before[offset]), (offset + 1, before[offset + 1]), (offset + 2, before[offset + 2]),
                           (offset + 5, after[0]), (offset + 7, after[2])):
            if seen[col] < 3 * len(value):        # a character prints at most 2.5 wide
                wide = len(value) if value.isascii() else text_width(value)
                if wide > seen[col]:
                    seen[col] = wide
        if codes not in self.codes_seen:
            self.codes_seen.add(codes)
            for col, wide in zip(self.code_cols, code_widths):
                seen[col] = max(seen[col], wide)
        r = str(self.rows.next_row + 1)
        joined = _SEPARATOR.join((*before, *after))
        if is_plain_row(joined, _SEPARATOR):
            blank = f"{text}/>" if new_household else None
            cells = [f'<c r="{letter}{r}"{text} t="inlineStr"><is><t>{value}</t></is></c>' if value else
                     (f'<c r="{letter}{r}"{blank}' if blank else "") for letter, value in zip(self.before, before)]
        else:
            cells = [self._cell(letter + r, text, value, new_household) for letter, value in zip(self.before, before)]
            cells.extend(self._cell(letter + r, text, value, new_household) for letter, value in zip(self.after, after))
            before = after = ()
        if birth_date is not None:
            serial = excel_serial(birth_date) if _EARLIEST_SERIAL <= birth_date and not isinstance(
                birth_date, dt.datetime) else f"{self.worksheet._convert_date_time(birth_date):.16G}"
            date_cell = f'<c r="{self.date_letter}{r}"{date}><v>{serial}</v></c>'
        else:
            date_cell = f'<c r="{self.date_letter}{r}"{date}/>' if new_household else ""
        if after:
            cells.append(date_cell)
            blank = f"{text}/>" if new_household else None
            cells.extend(f'<c r="{letter}{r}"{text} t="inlineStr"><is><t>{value}</t></is></c>' if value else
                         (f'<c r="{letter}{r}"{blank}' if blank else "") for letter, value in zip(self.after, after))
        else:
            cells.insert(self.date_col, date_cell)
        return self.rows.row("".join(cells))

    @staticmethod
    def _cell(ref: str, style: str, value: str, new_household: bool) -> str:
        if value:
            return text_cell(ref, style, value)
        return f'<c r="{ref}"{style}/>' if new_household else ""

    def close(self, column_formats: dict[int, object]) -> int:
        """The sheet's widths and print setup after its rows; its temporary file closed (reopened when the file is
        assembled: a county's 6,000 group sheets would otherwise hold 6,000 files open). Returns its last row."""
        last = self.rows.close()
        for col, wide in enumerate(self.seen):
            self.widths.seen[col] = max(self.widths.seen.get(col, 0), wide)
        width = self.widths.apply(self.worksheet, len(self.headers), column_formats)
        print_setup(self.worksheet, header_rows=3, title=self.title, last_row=last, last_col=len(self.headers) - 1,
                    width=width)
        self.worksheet._opt_close()
        return last


def build_register_export(groups: Iterable[GroupRows], output: str | BinaryIO, *,
                          exported_at: dt.datetime | None = None, language: str = "zh", by_town: bool = False) -> None:
    """Write the export to a path or a binary file object, holding one row at a time (constant memory).

    A "目录 Index" sheet comes first: one row per group with its sheet (linked), people and households. A group's
    sheet is named by the group (第一组), or by village and group (东村第一组) when groups of two villages share a
    name: each group's `sheet` when `groups` is streamed, else the groups are read first to name them. `by_town` (a
    county's export): one sheet per town instead, named by the town, its people group after group with their village
    and group in two columns before the others; the index still lists every group, linked to its first row. Codes
    are in the `language`'s words ("zh" or "en"); the headers are bilingual."""
    groups = iter(groups)
    first = next(groups, None)
    groups = itertools.chain([first] if first else [], groups)
    if first is not None and not first.sheet and not by_town:
        groups = list(groups)
        groups = [dataclasses.replace(group, sheet=name) for group, name in zip(groups, group_sheet_names(
            ((group.village, group.group) for group in groups), {_INDEX.casefold()}))]
    workbook = new_workbook(output, constant_memory=True)
    formats = standard_formats(workbook)
    # Each data cell has its format; a household's first row has its own formats, with a line above it separating
    # households. The columns have the plain ones too (for cells typed in later).
    font = {"font_name": "SimSun", "font_size": 10}
    column_text = workbook.add_format(font)
    column_date = workbook.add_format({**font, "num_format": "yyyy-mm-dd", "align": "left"})
    household_text = workbook.add_format({**font, "top": 1})
    household_date = workbook.add_format({**font, "top": 1, "num_format": "yyyy-mm-dd", "align": "left"})
    styles = {False: (RowStream.style(column_text), RowStream.style(column_date)),
              True: (RowStream.style(household_text), RowStream.style(household_date))}
    words = _Words(language)
    index = workbook.add_worksheet(_INDEX)
    write_title(index, formats, "台账目录 Register index",
                f"导出时间 Exported {exported_at:%Y-%m-%d %H:%M}" if exported_at else "")
    index_widths = ColumnWidths()
    index_widths.see_headers(0, _INDEX_HEADERS)
    index.set_row(2, index_widths.height(_INDEX_HEADERS))     # widths only grow: the headers stay whole
    index.write_row(2, 0, _INDEX_HEADERS, formats.header)
    index_row = 2
    lead = _TOWN_LEAD if by_town else ()
    formats_of = {col: column_date if col == len(lead) + _DATE_COL else column_text for col in range(len(lead)
                                                                                                      + len(HEADERS))}
    used = {_INDEX.casefold()}
    sheet: _Sheet | None = None
    for group in groups:
        if by_town and (sheet is None or sheet.town != group.town):
            if sheet is not None:
                sheet.close(formats_of)
            title = f"{group.town} 台账 Register"
            sheet = _Sheet(workbook, formats, styles, sheet_name(group.town, used), title, group.town, lead,
                           group.town)
        elif not by_town:
            title = f"{group.town} {group.village} {group.group} 台账 Register"
            sheet = _Sheet(workbook, formats, styles, group.sheet, title,
                           f"{group.town} / {group.village} / {group.group}", lead, group.town)
        first_row, people, households, previous_household = None, 0, 0, None
        lead_values = (group.village, group.group) if by_town else ()
        sheet.see_lead(lead_values)
        for person in group.people:
            new_household = person.household_no != previous_household or first_row is None
            households += new_household
            previous_household = person.household_no
            row = sheet.person(person, words, new_household, lead_values)
            first_row = row if first_row is None else first_row
            people += 1
        if not by_town:
            sheet.close(formats_of)
        index_row += 1
        name = sheet.worksheet.name
        index_widths.see_row(0, (group.town, group.village, group.group, name))
        index.write_row(index_row, 0, (group.town, group.village, group.group), formats.text)
        index.write_url(index_row, 3, f"internal:'{name}'!A{(first_row if by_town and first_row else 0) + 1}",
                        formats.text, name)
        index.write_row(index_row, 4, (people, households), formats.integer)
    if by_town and sheet is not None:
        sheet.close(formats_of)
    width = index_widths.apply(index, len(_INDEX_HEADERS))
    print_setup(index, header_rows=3, title="台账目录 Register index", last_row=index_row, last_col=5, width=width)
    workbook.close()


def register_export_bytes(groups: Iterable[GroupRows], *, exported_at: dt.datetime | None = None,
                          language: str = "zh", by_town: bool = False) -> bytes:
    """The export as bytes, for small inputs (a village); a county should stream to a file."""
    output = io.BytesIO()
    build_register_export(groups, output, exported_at=exported_at, language=language, by_town=by_town)
    return output.getvalue()
