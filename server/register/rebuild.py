"""The full rebuild in worker processes: submissions read by village in parallel, the register replayed in parallel
in parts that share no record, the rows bulk-loaded in the one order a single replay gives them.

How it runs (docs/register.md § How a full rebuild runs):

1. The derived tables are emptied and (PostgreSQL) their secondary indexes, unique constraints and foreign keys
   dropped (rebuild_queries); all in the rebuild's transaction.
2. **Read**: the submissions are streamed to `workers` processes, each village's to one process; each process
   reads its visits (`sync.replay.register_visit`), keeps them, and answers with the uuids each visit names.
3. **Parts**: records meet only through the visits that name them, edit chains (deprecatedID), service items that
   refer to another visit's items, and decisions (merges, moves, a person added to a household, consent withdrawn
   from a household's services: every record a decision names). Those links make connected parts; a part lies in
   one process unless a visit or a decision joins villages of two processes (a move, a collector's visit about a
   household of another village): its visits then go to the process holding most of them.
4. **Replay**: each process replays its parts (`sync.replay.replay`, one order: `sync.merge.keyed_replay_order`)
   into a store that knows the areas from a copy, computes the match keys, and formats its rows for COPY, each
   row tagged with the key of the visit or decision that wrote it.
5. **Load**: each table's rows are merged by that key (a key belongs to one part, hence to one process), so rows
   get their ids in the order one process replaying everything gives them; the schedule summary is worked out
   again from them (server.register.summaries); then the indexes and constraints are created again as they were.
"""

from __future__ import annotations

import gc
import heapq
import multiprocessing
import os
import pickle
import re
import resource
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import NamedTuple

from psycopg._copy_base import format_row_text  # Copy.write_row's formatter (psycopg 3.3)
from psycopg.adapt import Transformer

from server.database import on_postgresql
from server.register import queries, rebuild_queries, summaries
from server.register.matching import person_records
from server.register.stores import MemoryStore, row_values
from sync.decisions import ADD_PERSON, DECISION_KINDS, DecisionRow, new_person_fields
from sync.errors import TaizhangError
from sync.identity import block_keys
from sync.replay import StoredSubmission, named_uuids, register_visit, replay
from sync.retention import PurgedRecords
from sync.scope import RegisterLookup
from sync.visits import Visit

__all__ = ["RebuildTally", "rebuild_in_parallel"]

_BATCH = 500              # submissions sent to a process at a time
_IN_FLIGHT = 32           # batches waiting per process (memory stays bounded while the database streams)
_CHUNK = 2000             # submissions (whole parts) replayed at a time in a process
_VISITS_IN_MEMORY = 10_000   # visits read a process keeps in memory until replayed (the rest wait in a file)
_TABLES = ("field_values", "events", "conflicts", "visits", "anchors", "submission_records", "service_items")
_WRITTEN = {   # the tables whose rows nothing changes once written, and their columns (queries' row functions)
    "field_values": ["record_kind", "record_uuid", "field", "value", "version", "submission_id", "decision_id",
                     "instance_id", "visited_at"],
    "submission_records": ["submission_id", "record_uuid"]}
_TABLE_NAMES = {"field_values": "register_field_value", "events": "life_event", "conflicts": "register_conflict",
                "visits": "visit", "anchors": "service_anchor", "submission_records": "submission_record",
                "service_items": "service_item"}


@dataclass
class RebuildTally:
    """What a rebuild did and where its time went (wall seconds in this process; CPU seconds in the workers)."""

    applied: int = 0
    workers: int = 1
    wall: dict[str, float] = field(default_factory=dict)         # forget, drop, read, replay, load, indexes
    main_cpu: dict[str, float] = field(default_factory=dict)     # the same steps' CPU seconds in this process
    main_peak_rss_kib: dict[str, int] = field(default_factory=dict)  # this process's peak RSS at each step's end
    worker_cpu: dict[str, float] = field(default_factory=dict)   # parse, replay, format, match_keys (summed)
    worker_peak_rss_kib: list[int] = field(default_factory=list)
    worker_process_cpu: float = 0.0   # the worker processes' whole CPU (the steps, and receiving and sending)
    crossing_visits: int = 0    # visits moved to another process because a part joined villages of two
    spilled_bytes: int = 0      # the workers' rows, written to files from the replay to the load
    visits_on_disk: int = 0     # visits read that waited in a file for their replay (beyond _VISITS_IN_MEMORY)


class _Areas:
    """The areas as a replay asks about them, copied for the worker processes."""

    def __init__(self, rows: list[rebuild_queries.AreaRow]) -> None:
        self.by_id = {row.id: row for row in rows}
        self.destinations = {row.full_name: queries.DestinationArea(row.id, row.path) for row in rows
                             if row.kind in ("village", "town")}

    def village_of(self, area_id: int | None) -> int | None:
        row = self.by_id.get(area_id) if area_id is not None else None
        return row.parent_id if row is not None and row.kind == "group" else area_id


class _Place(NamedTuple):
    kind: str
    path: str


class _PartStore(MemoryStore):
    """A full replay of some parts of the register in a worker process: areas from the copy, nothing stored
    (the derived tables are empty during a full rebuild), every row tagged with the key of the item that wrote
    it (`mark`), and each record with the key of its first version.

    For COPY (`copy`), the rows nothing changes once written (field values, submission records) are formatted as
    they are written: each item's rows become one keyed run of COPY text at the next mark, and a field value never
    becomes a dict."""

    def __init__(self, areas: _Areas, copy: bool) -> None:
        super().__init__()
        self.areas = areas
        self.copy = copy
        self.key: tuple[int, int, int] | None = None
        self.first_key: dict[tuple[str, str], tuple[int, int, int]] = {}
        self.written: dict[str, list[tuple[tuple[int, int, int], bytes]]] = {name: [] for name in _WRITTEN}

    def mark(self, key: tuple[int, int, int] | None) -> None:
        """The rows written since the last mark were written by the item of the last key."""
        for name in _TABLES:
            rows = getattr(self, name)
            if self.copy and name in _WRITTEN:
                if rows:
                    self.written[name].append((self.key, _lines(rows, _WRITTEN[name])))
                    setattr(self, name, [])
                continue
            index = len(rows) - 1
            while index >= 0 and "_key" not in rows[index]:
                rows[index]["_key"] = self.key
                index -= 1
        self.key = key

    def _note_values(self, kind, plan, after, ref, *, submission_id, decision_id) -> None:
        """queries.field_value_row's rows, as lines of COPY text (the values a plan sets share all but two
        columns)."""
        if not self.copy:
            super()._note_values(kind, plan, after, ref, submission_id=submission_id, decision_id=decision_id)
            return
        if plan.updates:
            head = f"{_text(kind)}\t{_text(plan.uuid)}\t"
            tail = _line((plan.new_version, submission_id, decision_id, ref.instance_id,
                          queries._utc(ref.visited_at)))
            if _plain(plan.updates):
                self.field_values += [f"{head}{name}\t{value}\t{tail}" for name, value in plan.updates.items()]
            else:
                self.field_values += [f"{head}{_text(name)}\t{_text(value)}\t{tail}"
                                      for name, value in plan.updates.items()]
        self._note_event(kind, plan, after, submission_id=submission_id, decision_id=decision_id)

    def add_visit(self, submission_id, uuids, entry) -> None:
        """MemoryStore.add_visit, the submission records as lines of COPY text (`copy`)."""
        if not self.copy:
            super().add_visit(submission_id, uuids, entry)
            return
        super().add_visit(submission_id, set(), entry)
        self.submission_records += [f"{submission_id}\t{_text(uuid)}\n" for uuid in sorted(uuids)]

    def lookup(self, aliases, chain) -> RegisterLookup:
        """MemoryStore.lookup of a full replay: a record not replayed (yet) is not there."""
        def current(kind: str, name: str, missing: str | None):
            def read(uuid: str) -> str | None:
                state = self.records.get((kind, uuid))
                return None if state is None else state.value(name) or missing
            return read
        return RegisterLookup(aliases.resolve, current("household", "group", ""), current("person", "household", None),
                              self.expected_in, self.destination_known)

    def household_group(self, household_uuid: str) -> str | None:
        state = self.records.get(("household", household_uuid))
        return None if state is None else state.value("group") or ""

    def destination(self, full_name: str) -> queries.DestinationArea | None:
        return self.areas.destinations.get(full_name)

    def area(self, area_id: int):
        row = self.areas.by_id.get(area_id)
        return _Place(row.kind, row.path) if row is not None else None

    def save(self, kind, plan, after, ref, *, submission_id, decision_id) -> None:
        self.first_key.setdefault((kind, plan.uuid), self.key)
        super().save(kind, plan, after, ref, submission_id=submission_id, decision_id=decision_id)


# ---- in the worker processes --------------------------------------------------------------------------------------

class _ReadVisits:
    """This process's submissions (without their XML) and visits, read and waiting to be replayed: the first
    `in_memory` as they are, the others pickled to a file in the rebuild's spill folder (a county's year of visits
    would not fit in a process's memory; a town's stay in memory)."""

    def __init__(self) -> None:
        self.kept: dict[int, tuple[StoredSubmission, Visit | None]] = {}
        self.offsets: dict[int, int] = {}
        self.file = None
        self.written = 0      # visits that waited in the file

    def add(self, submission_id: int, read: tuple[StoredSubmission, Visit | None], *, in_memory: int,
            spill: str) -> None:
        if len(self.kept) < in_memory:
            self.kept[submission_id] = read
            return
        if self.file is None:
            self.file = tempfile.TemporaryFile(dir=spill)
        self.file.seek(0, os.SEEK_END)
        self.offsets[submission_id] = self.file.tell()
        pickle.dump(read, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        self.written += 1

    def pop(self, submission_id: int) -> tuple[StoredSubmission, Visit | None]:
        if submission_id in self.kept:
            return self.kept.pop(submission_id)
        self.file.seek(self.offsets.pop(submission_id))
        return pickle.load(self.file)

    def clear(self) -> None:
        self.kept.clear()
        self.offsets.clear()
        self.written = 0
        if self.file is not None:
            self.file.close()
            self.file = None


_READ = _ReadVisits()


@contextmanager
def _collector_off():
    """The cyclic garbage collector off while a process builds what it keeps (its visits read, a chunk's records
    and rows): it would walk them again at every full collection (a third of the replay's CPU), and they hold no
    cycles (reference counting frees them). After, what is kept is moved out of its sight (gc.freeze) and it runs
    again as usual."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _read_batch(rows: list[StoredSubmission], in_memory: int, spill: str
                ) -> tuple[list[tuple[int, tuple[str, ...], tuple[str, ...]]], float]:
    """Read a batch of submissions and keep them (_ReadVisits); answer, for each visit, the uuids it names and the
    visits its service items refer to (by instanceID)."""
    started = time.process_time()
    named = []
    with _collector_off():
        for row in rows:
            visit = register_visit(row.xml)
            _READ.add(row.id, (row._replace(xml=b""), visit), in_memory=in_memory, spill=spill)
            if visit is not None:
                refers = {item.refers_to.rpartition("#")[0] for item in visit.services.items if item.refers_to}
                named.append((row.id, tuple(named_uuids(visit)), tuple(refers)))
    return named, time.process_time() - started


def _hand_over(ids: list[int]) -> list[tuple[StoredSubmission, Visit | None]]:
    """Give up these submissions (read) to another process."""
    return [_READ.pop(submission_id) for submission_id in ids]


_TRANSFORMER = Transformer()   # psycopg's adapters without a connection: the text COPY's write_row writes
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_ESCAPED = re.compile(r"[\\\t\n\r]")   # what _text escapes


def _copy_row(values: tuple, buffer: bytearray) -> None:
    """One row in COPY's text format, as psycopg's Copy.write_row formats it (its C formatter)."""
    format_row_text(values, _TRANSFORMER, buffer)


def _line(values: tuple) -> str:
    """_copy_row's line as text."""
    buffer = bytearray()
    format_row_text(values, _TRANSFORMER, buffer)
    return buffer.decode()


def _text(value: str | None) -> str:
    """A text column's value as COPY's text format writes it (the same value psycopg's formatter gives)."""
    if value is None:
        return "\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def _plain(texts: dict[str, str | None]) -> bool:
    """Whether these names and values are all text COPY's text format writes as it is (nothing to escape)."""
    try:
        return _ESCAPED.search("".join(texts)) is None and _ESCAPED.search("".join(texts.values())) is None
    except TypeError:   # a None, written \N
        return False


def _lines(rows: list, columns: list[str]) -> bytes:
    """Rows (lines of COPY text already, or dicts) as one block of COPY text."""
    try:
        return "".join(rows).encode()   # all lines already (the usual case)
    except TypeError:
        values = itemgetter(*columns)
        return "".join(row if isinstance(row, str) else _line(values(row)) for row in rows).encode()


def _runs(rows: list[dict], columns: list[str], *, copy: bool) -> list[tuple[tuple, object]]:
    """Rows as (key, block) runs of consecutive rows of one key: COPY text (PostgreSQL) or the rows (SQLite)."""
    runs: list[tuple[tuple, object]] = []
    values = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    block: bytearray | list = bytearray() if copy else []
    current = None
    for row in rows:
        key = row["_key"]
        if key != current and block:
            runs.append((current, bytes(block) if copy else block))
            block = bytearray() if copy else []
        current = key
        if copy:
            _copy_row(values(row), block)
        else:
            block.append(dict(zip(columns, values(row), strict=True)))
    if block:
        runs.append((current, bytes(block) if copy else block))
    return runs


def _record_runs(found: list[tuple[tuple, dict]], columns: list[str], *, copy: bool) -> list[tuple[tuple, object]]:
    """Records' rows (key, columns), in key order, as _runs gives them."""
    runs: list[tuple[tuple, object]] = []
    for key, row in found:
        values = [row.get(column) for column in columns]
        if not runs or runs[-1][0] != key:
            runs.append((key, bytearray() if copy else []))
        if copy:
            _copy_row(values, runs[-1][1])
        else:
            runs[-1][1].append(dict(zip(columns, values, strict=True)))
    return [(key, bytes(block) if copy else block) for key, block in runs]


class _IdentityRow(NamedTuple):
    uuid: str
    household_uuid: str | None
    name: str | None
    sex: str | None
    birth_date: str | None
    id_number: str | None
    phone: str | None
    village_id: int | None


def _replay_parts(received: list[tuple[StoredSubmission, Visit | None]],
                  chunks: list[tuple[list[int], list[DecisionRow]]], purged: PurgedRecords, areas: _Areas,
                  copy: bool, spill: str, in_memory: int) -> dict:
    """Replay the parts this process holds (its submissions and those received), a chunk of whole parts at a time
    (the memory a replay's rows take is one chunk's), each with its decisions; write each chunk's keyed runs of
    each derived table (the match keys too) to a file of the table in `spill`; answer, per table, its columns and
    the segments of its file (one a chunk, each in key order), and the CPU each step took."""
    with _collector_off():
        return _replay_chunks(received, chunks, purged, areas, copy, spill, in_memory)


def _spill(path: str, runs: list) -> tuple[str, int, int]:
    """Append keyed runs to a file: (path, start, end) of the segment they take."""
    with open(path, "ab") as file:
        start = file.tell()
        for run in runs:
            pickle.dump(run, file, protocol=pickle.HIGHEST_PROTOCOL)
        return path, start, file.tell()


def _spilled(path: str, start: int, end: int) -> Iterator[tuple]:
    """The keyed runs of a segment _spill wrote, read as they are merged."""
    with open(path, "rb") as file:
        file.seek(start)
        while file.tell() < end:
            yield pickle.load(file)


def _replay_chunks(received, chunks, purged, areas, copy, spill, in_memory) -> dict:
    for row, visit in received:
        _READ.add(row.id, (row, visit), in_memory=in_memory, spill=spill)
    cpu = dict.fromkeys(("replay", "format", "match_keys"), 0.0)
    tables: dict[str, tuple[list[str], list[tuple[str, int, int]]]] = {}
    applied = 0
    for ids, decisions in chunks:
        started = time.process_time()
        read = {submission_id: _READ.pop(submission_id) for submission_id in ids}
        rows = sorted((row for row, _ in read.values()), key=lambda row: row.id)
        store = _PartStore(areas, copy)
        applied += replay(store, rows, decisions, only=None, purged=purged,
                          visit_of=lambda row: read[row.id][1], mark=store.mark)
        store.mark(None)
        cpu["replay"] += time.process_time() - started
        for name, (columns, runs) in _chunk_tables(store, areas, copy, cpu).items():
            segment = _spill(os.path.join(spill, f"{os.getpid()}-{name}"), runs)
            tables.setdefault(name, (columns, []))[1].append(segment)
        read.clear()
        del store, rows
    visits_on_disk = _READ.written
    _READ.clear()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return dict(applied=applied, tables=tables, cpu=cpu, visits_on_disk=visits_on_disk,
                peak_rss_kib=usage.ru_maxrss, process_cpu=usage.ru_utime + usage.ru_stime)


def _chunk_tables(store: _PartStore, areas: _Areas, copy: bool, cpu: dict[str, float]) -> dict[str, tuple]:
    """A replayed chunk's rows: (columns, keyed runs) per derived table, the match keys computed here."""
    started = time.process_time()
    tables = {}
    for name in _TABLES:
        if copy and name in _WRITTEN:
            if store.written[name]:
                tables[_TABLE_NAMES[name]] = (_WRITTEN[name], store.written[name])
            continue
        found = getattr(store, name)
        if found:
            columns = [column for column in found[0] if column != "_key"]
            tables[_TABLE_NAMES[name]] = (columns, _runs(found, columns, copy=copy))
    records = {"household": [], "person": []}
    for (kind, uuid), state in store.records.items():
        row = queries.record_columns(kind, uuid, row_values(kind, state), state.version)
        records[kind].append((store.first_key[(kind, uuid)], row))
    for kind, found in records.items():
        if found:
            columns = [column.name for column in queries.RECORD_MODELS[kind].__table__.columns]
            found.sort(key=itemgetter(0))
            tables[kind] = (columns, _record_runs(found, columns, copy=copy))
    cpu["format"] += time.process_time() - started

    started = time.process_time()
    identities = []
    for _, row in records["person"]:
        household = store.records.get(("household", row.get("household_uuid") or ""))
        group = household.value("group") if household is not None else None
        area = areas.by_id.get(int(group)) if group and group.isdigit() else None
        if area is not None:
            identities.append(_IdentityRow(row["uuid"], row.get("household_uuid"), row.get("name"), row.get("sex"),
                                           row.get("birth_date"), row.get("id_number"), row.get("phone"),
                                           area.parent_id))
    columns = ["person_uuid", "key", "village_id"]
    if copy:   # one run (the match keys carry no replay key): a person's lines share all but the key
        lines = []
        for record, village in person_records(identities):
            head, tail = f"{_text(record.id)}\t", "\t\\N\n" if village is None else f"\t{village}\n"
            lines += [f"{head}{_text(key)}{tail}" for key in dict.fromkeys(block_keys(record))]
        if lines:
            tables["person_match_key"] = (columns, [((), "".join(lines).encode())])
    else:
        keys = [{"person_uuid": record.id, "key": key, "village_id": village, "_key": ()}
                for record, village in person_records(identities) for key in dict.fromkeys(block_keys(record))]
        if keys:
            tables["person_match_key"] = (columns, _runs(keys, columns, copy=False))
    cpu["match_keys"] += time.process_time() - started
    return tables


# ---- in the rebuild's process ---------------------------------------------------------------------------------------

class _Parts:
    """Union-find over submissions (ints) and record uuids (strings)."""

    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, node):
        parent = self.parent.setdefault(node, node)
        if parent == node:
            return node
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def join(self, first, *others) -> None:
        root = self.find(first)
        for other in others:
            other_root = self.find(other)
            if other_root != root:
                self.parent[other_root] = root


def _decision_nodes(decision: DecisionRow, by_instance: dict[str, int], known: set[str]) -> list:
    """What a decision joins: the records it names (a target that is a record), or the visit it is about."""
    kind = DECISION_KINDS[decision.kind]
    if kind.subject_is_visit:
        return [int(decision.subject_uuid)] if decision.subject_uuid.isdigit() else []
    if kind.subject_is_service_item:
        submission = by_instance.get(decision.subject_uuid.rpartition("#")[0])
        return [submission] if submission is not None else []
    nodes = set(kind.joined(decision.subject_uuid, decision.target))
    if decision.target in known:
        nodes.add(decision.target)
    if kind is ADD_PERSON:
        try:
            nodes.add(new_person_fields(decision.target)[0])
        except TaizhangError:
            pass
    return sorted(nodes)


def _shards_of_villages(counts: dict[int | None, int], areas: _Areas, workers: int) -> dict[int | None, int]:
    """Each village to a process, the busiest villages first to the least loaded process."""
    by_village: Counter = Counter()
    for area_id, count in counts.items():
        by_village[areas.village_of(area_id)] += count
    load = [0] * workers
    shard_of = {}
    for village, count in sorted(by_village.items(), key=lambda item: (-item[1], item[0] or 0)):
        shard = min(range(workers), key=lambda index: load[index])
        shard_of[village] = shard
        load[shard] += count
    return shard_of


def _chunks(shard_of: dict[int, int], owner: dict, parts: _Parts, decisions: list[DecisionRow],
            decision_nodes: dict[int, list], workers: int) -> list[list[tuple[list[int], list[DecisionRow]]]]:
    """Each process's parts, in chunks of whole parts of about _CHUNK submissions, with their decisions (those of
    a part without submissions go with the first process's first chunk)."""
    members: list[dict] = [defaultdict(list) for _ in range(workers)]
    for submission_id in sorted(shard_of):
        root = parts.find(submission_id)
        members[owner[root]][root].append(submission_id)
    decided: dict = defaultdict(list)
    for decision in decisions:
        nodes = decision_nodes[decision.id]
        root = parts.find(nodes[0]) if nodes else None
        decided[root if root in owner else None].append(decision)
    chunks: list[list[tuple[list[int], list[DecisionRow]]]] = [[] for _ in range(workers)]
    for shard, found in enumerate(members):
        ids: list[int] = []
        chosen: list[DecisionRow] = []
        for root, submission_ids in found.items():
            ids += submission_ids
            chosen += decided.pop(root, [])
            if len(ids) >= _CHUNK:
                chunks[shard].append((ids, chosen))
                ids, chosen = [], []
        if ids or chosen:
            chunks[shard].append((ids, chosen))
    loose = [decision for found in decided.values() for decision in found]
    if loose:
        chunks[0][:1] = [(chunks[0][0][0] if chunks[0] else [], (chunks[0][0][1] if chunks[0] else []) + loose)]
    return chunks


def rebuild_in_parallel(workers: int) -> RebuildTally:
    """Forget the derived register and replay every effective submission and every decision in force in `workers`
    processes (the caller commits). Gives exactly the register `replays.rebuild_register(workers=1)` gives."""
    tally = RebuildTally(workers=workers)
    clock = time.perf_counter(), time.process_time()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter(), time.process_time()
        tally.wall[step] = now[0] - clock[0]
        tally.main_cpu[step] = now[1] - clock[1]
        tally.main_peak_rss_kib[step] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        clock = now

    postgresql = on_postgresql()
    rebuild_queries.bulk_transaction()
    rebuild_queries.empty_derived()
    lap("forget")
    definitions = rebuild_queries.derived_definitions() if postgresql else []
    rebuild_queries.drop_definitions(definitions)
    lap("drop")

    areas = _Areas(rebuild_queries.area_rows())
    purged = queries.purged_records()
    decisions = rebuild_queries.decisions_in_force()
    shard_of_village = _shards_of_villages(rebuild_queries.submission_counts(), areas, workers)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with tempfile.TemporaryDirectory(prefix="taizhang-rebuild-") as spill:   # the workers' rows, until loaded
        shards = [ProcessPoolExecutor(max_workers=1, mp_context=context) for _ in range(workers)]
        tally.worker_cpu = defaultdict(float)
        try:
            # Read, each village in one process.
            shard_of: dict[int, int] = {}
            by_instance: dict[str, int] = {}
            chains: list[tuple[int, str]] = []
            parts = _Parts()
            pending: list[list[Future]] = [[] for _ in shards]
            answers: list[Future] = []
            for batch in rebuild_queries.submission_batches(_BATCH * workers):
                split: list[list[StoredSubmission]] = [[] for _ in shards]
                for row in batch:
                    shard = shard_of_village.get(areas.village_of(row.area_id), row.id % workers)
                    shard_of[row.id] = shard
                    split[shard].append(row)
                    if row.deprecated_id:
                        chains.append((row.id, row.deprecated_id))
                    other = by_instance.setdefault(row.instance_id, row.id)
                    if other != row.id:
                        parts.join(other, row.id)
                for shard, rows in enumerate(split):
                    for start in range(0, len(rows), _BATCH):
                        if len(pending[shard]) >= _IN_FLIGHT:
                            wait(pending[shard][:1])
                            pending[shard] = [future for future in pending[shard] if not future.done()]
                        future = shards[shard].submit(_read_batch, rows[start:start + _BATCH], _VISITS_IN_MEMORY,
                                                      spill)
                        pending[shard].append(future)
                        answers.append(future)
                del batch, split
            known: set[str] = set()
            for future in answers:
                named, cpu = future.result()
                tally.worker_cpu["parse"] += cpu
                for submission_id, uuids, refers in named:
                    parts.join(submission_id, *uuids, *(by_instance[instance] for instance in refers
                                                        if instance in by_instance))
                    known.update(uuids)
            del answers
            lap("read")

            # Parts: edit chains and decisions join too; each part goes to the process holding most of its visits.
            for submission_id, deprecated_id in chains:
                if deprecated_id in by_instance:
                    parts.join(submission_id, by_instance[deprecated_id])
            decision_nodes = {decision.id: _decision_nodes(decision, by_instance, known) for decision in decisions}
            for nodes in decision_nodes.values():
                if nodes:
                    parts.join(*nodes)
            holders: dict = defaultdict(Counter)
            for submission_id, shard in shard_of.items():
                holders[parts.find(submission_id)][shard] += 1
            owner = {root: counter.most_common(1)[0][0] for root, counter in holders.items()}
            moving: list[dict[int, list[int]]] = [defaultdict(list) for _ in shards]   # from → to → ids
            for submission_id, shard in shard_of.items():
                to = owner[parts.find(submission_id)]
                if to != shard:
                    moving[shard][to].append(submission_id)
                    tally.crossing_visits += 1
            received: list[list] = [[] for _ in shards]
            for shard, targets in enumerate(moving):
                for to, ids in targets.items():
                    received[to] += shards[shard].submit(_hand_over, ids).result()
            chunks = _chunks(shard_of, owner, parts, decisions, decision_nodes, workers)
            del parts, holders, owner, shard_of, known, by_instance, chains

            # Replay in every process.
            replays = [shards[shard].submit(_replay_parts, received[shard], chunks[shard], purged, areas, postgresql,
                                            spill, _VISITS_IN_MEMORY) for shard in range(workers)]
            results = [future.result() for future in replays]
            lap("replay")
        finally:
            for shard in shards:
                shard.shutdown(wait=True, cancel_futures=True)

        # Load: each table's runs merged by key, so ids come in the order of one replay of everything.
        tally.applied = sum(result["applied"] for result in results)
        tally.visits_on_disk = sum(result["visits_on_disk"] for result in results)
        for result in results:
            for step, seconds in result["cpu"].items():
                tally.worker_cpu[step] += seconds
            tally.worker_peak_rss_kib.append(result["peak_rss_kib"])
            tally.worker_process_cpu += result["process_cpu"]
        tally.worker_cpu = dict(tally.worker_cpu)
        tally.spilled_bytes = sum(end - start for result in results for _, segments in result["tables"].values()
                                  for _, start, end in segments)
        names = dict.fromkeys(name for result in results for name in result["tables"])
        for name in ("household", "person", *[table for table in names if table not in ("household", "person")]):
            found = [result["tables"][name] for result in results if name in result["tables"]]
            if not found:
                continue
            columns = found[0][0]
            merged = heapq.merge(*(_spilled(*segment) for _, segments in found for segment in segments),
                                 key=itemgetter(0))
            if postgresql:
                rebuild_queries.copy_blocks(name, columns, (block for _, block in merged))
            else:
                rebuild_queries.insert_rows(name, [row for _, block in merged for row in block])
        del results
        lap("load")
    summaries.refresh(None, None)
    lap("summary")
    rebuild_queries.create_definitions(definitions)
    lap("indexes")
    return tally
