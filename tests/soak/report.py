"""What the soak found, from the provider stand-in's own log: lost, duplicated, stale, unknown, lateness."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass
class Report:
    reminders: int
    changed: int
    handed: int
    lost: list[int]
    waiting: list[int]
    duplicated: list[str]
    stale: list[str]
    unknown: dict[str, int]
    not_handed: dict[str, int]
    lateness: dict[str, float]
    drain_seconds: float | None
    provider_answers: dict[str, int]
    faults: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    # texts handed over in each TIMELINE_SECONDS from the first due time: where the sends slowed down
    timeline: list[int] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.lost or self.duplicated or self.stale or self.waiting)

    def lines(self) -> list[str]:
        late = self.lateness
        return [
            f"reminders due: {self.reminders}; visits cancelled or moved meanwhile: {self.changed}",
            f"handed to the provider (201 or dropped): {self.handed}; provider answers: {self.provider_answers}",
            f"lost: {len(self.lost)} {self.lost[:10]}",
            f"still waiting when the soak gave up (pending, queued or sending): {len(self.waiting)}",
            f"duplicated: {len(self.duplicated)} {self.duplicated[:10]}",
            f"stale: {len(self.stale)} {self.stale[:10]}",
            f"unknown: {sum(self.unknown.values())} {self.unknown}",
            f"not handed, by state and reason: {self.not_handed}",
            "lateness of texts handed (s, excluding unknown): "
            + (f"median {late['median']:.1f}, p99 {late['p99']:.1f}, max {late['max']:.1f}" if late else "none"),
            "time to drain (first due to last text handed): "
            + (f"{self.drain_seconds:.0f} s" if self.drain_seconds is not None else "did not drain"),
            f"handed per {TIMELINE_SECONDS} s from the first due time: {self.timeline}",
            f"faults: {len(self.faults)}", *(f"  {line}" for line in self.faults),
            *(f"desk change refused: {line}" for line in self.refusals),
        ]


TIMELINE_SECONDS = 30


def _timeline(times: list[float], first_due: float) -> list[int]:
    counts = Counter(int(max(0.0, at - first_due) // TIMELINE_SECONDS) for at in times)
    return [counts.get(bucket, 0) for bucket in range(max(counts, default=-1) + 1)]


def _p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def compute(*, due, log: list[dict], changes, states: dict[int, tuple[str, str]], lead_minutes: int,
            drained: bool, faults: list[str]) -> Report:
    """``due``: the soak's reminders (``clinic.Due``); ``log``: the stand-in's requests; ``changes``: the desk's;
    ``states``: each reminder's final (state, reason) in the database, read only to tell ``unknown`` (and why
    a text was not handed) from lost."""
    handed_at: dict[str, list[float]] = defaultdict(list)
    answers = Counter()
    for request in log:
        answers["dropped" if request["status"] is None else str(request["status"])] += 1
        if request["status"] in (None, 201):
            handed_at[request["form"].get("To", "")].append(request["at"])
    committed = {change.session_id: change for change in changes if change.committed_at is not None}
    lost, waiting, duplicated, stale, late = [], [], [], [], []
    unknown, not_handed = Counter(), Counter()
    for item in due:
        times = sorted(handed_at.get(item.phone, []))
        state, reason = states.get(item.reminder_id, ("missing", ""))
        change = committed.get(item.session_id)
        if len(times) > 1:
            duplicated.append(f"{item.phone} x{len(times)}")
        if state == "unknown":
            unknown[reason] += 1
        for at in times:
            if change is not None and at > change.committed_at:
                stale.append(f"{item.phone}: received {at - change.committed_at:.2f} s after it was {change.what}")
            elif (item.session_start.timestamp() - at) < lead_minutes * 60:
                stale.append(f"{item.phone}: received less than {lead_minutes} minutes before the visit")
        if times:
            if state != "unknown":
                late.append(times[0] - item.due.timestamp())
            continue
        not_handed[f"{state}: {reason}" if reason else state] += 1
        if state in ("pending", "queued", "sending"):
            waiting.append(item.reminder_id)
        elif change is None and state != "unknown":
            lost.append(item.reminder_id)
    everything = [at for times in handed_at.values() for at in times]
    first_due = min(item.due.timestamp() for item in due) if due else 0.0
    lateness = ({"median": statistics.median(late), "p99": _p(late, 0.99), "max": max(late)} if late else {})
    return Report(reminders=len(due), changed=len(committed), handed=sum(map(len, handed_at.values())),
                  lost=lost, waiting=waiting,
                  duplicated=duplicated, stale=stale, unknown=dict(unknown), not_handed=dict(not_handed),
                  lateness=lateness, drain_seconds=(max(everything) - first_due) if everything and drained else None,
                  provider_answers=dict(answers), faults=faults, timeline=_timeline(everything, first_due),
                  refusals=[f"{change.session_id} {change.what}: {change.refusal}" for change in changes
                            if change.committed_at is None])
