"""Texts of the pipeline's SNS notifications, built from the batch's own records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

SUBJECT_PREFIX = "[imdb_quality_ingest]"

# Rendered by SnsNotifier when a task fails for good (after its retries): which task and why.
TASK_FAILED_SUBJECT = SUBJECT_PREFIX + " FAILED: {{ ti.task_id }}"
TASK_FAILED_MESSAGE = (
    "Run {{ run_id }} of DAG {{ dag.dag_id }} failed.\n"
    "Task: {{ ti.task_id }} (try {{ ti.try_number }})\n"
    "Error: {{ exception }}\n"
    "Log: {{ ti.log_url }}\n"
)


def success_message(
    summary: Mapping, gate_results: Sequence[Mapping], figures: Mapping, *, batch_id: str, run_url: str
) -> tuple[str, str]:
    """Subject and body for a batch whose merge committed: files, row counts, quality rule, gate verdicts.

    What was loaded comes from the ledger (`figures`, batch_figures), not from the Glue summary: a
    merge skips the files another batch loaded meanwhile, and a batch whose files were all loaded
    elsewhere says so, never "loaded".
    """
    rule = summary.get("quality_rule") or {}
    if not figures["files_loaded"]:
        lines = [
            f"Batch {batch_id} loaded nothing: the files it had verified were loaded first by another batch "
            "(recorded `skipped` in the load ledger).",
            f"Run: {run_url}",
        ]
        return f"{SUBJECT_PREFIX} SKIPPED: batch {batch_id}", "\n".join(lines)
    lines = [
        f"Batch {batch_id} loaded.",
        f"Rows in: {figures['rows_in']}, loaded: {figures['rows_loaded']}, "
        f"quarantined: {figures['rows_quarantined']}.",
    ]
    if figures["files"] > figures["files_loaded"]:
        lines.append(f"Files loaded: {figures['files_loaded']} of {figures['files']} (the others rejected, or "
                     "loaded meanwhile by another batch: see the load ledger).")
    if summary.get("reasons"):
        reasons = ", ".join(f"{code}: {count}" for code, count in sorted(summary["reasons"].items()))
        lines.append(f"Quarantine reasons: {reasons}.")
    if rule:
        lines.append(
            f"Quality rule ({rule.get('rule')}): {rule.get('rows_passed')} passed, "
            f"{rule.get('rows_failed')} failed."
        )
    lines.append("Files (as the Glue job read them):")
    for file in summary.get("files", []):
        detail = (
            f"rejected: {file.get('error')}"
            if file.get("status") == "rejected"
            else f"{file['rows_in']} in, {file['rows_valid']} valid, {file['rows_quarantined']} quarantined"
        )
        lines.append(f"  - {file['source_object']}: {detail}")
    lines.append(gate_summary(gate_results))
    lines.append(f"Run: {run_url}")
    return f"{SUBJECT_PREFIX} OK: batch {batch_id}", "\n".join(lines)


def nothing_valid_message(summary: Mapping) -> str:
    """Why a batch has no valid row: each rejected file's error, else the quarantine reasons."""
    lines = [f"Batch {summary['batch_id']} has no valid row to load ({summary['rows_in']} rows in)."]
    for file in summary.get("files", []):
        if file.get("status") == "rejected":
            lines.append(f"  - {file['source_object']}: rejected: {file.get('error')}")
    if summary.get("reasons"):
        reasons = ", ".join(f"{code}: {count}" for code, count in sorted(summary["reasons"].items()))
        lines.append(f"  Quarantined rows by reason: {reasons} (details beside the batch, in quarantine/).")
    return "\n".join(lines)


def gate_summary(gate_results: Sequence[Mapping]) -> str:
    """One line per check that did not pass, after a count of the verdicts."""
    counts = {outcome: 0 for outcome in ("pass", "warn", "fail")}
    for result in gate_results:
        counts[result["outcome"]] = counts.get(result["outcome"], 0) + 1
    lines = [f"Quality gate: {counts['pass']} passed, {counts['warn']} warned, {counts['fail']} failed."]
    for result in gate_results:
        if result["outcome"] != "pass":
            lines.append(f"  - {result['outcome'].upper()} {result['contract']}: {result['name']}: {result['message']}")
    return "\n".join(lines)


def skipped_message(skipped: Sequence[str], *, run_id: str, run_url: str) -> tuple[str, str]:
    """Subject and body for a run that found nothing new to load."""
    lines = [f"Run {run_id} found no new IMDb files to load."]
    if skipped:
        lines.append("Already loaded with the same ETag (skipped):")
        lines.extend(f"  - {uri}" for uri in skipped)
    lines.append(f"Run: {run_url}")
    return f"{SUBJECT_PREFIX} SKIPPED: nothing new", "\n".join(lines)
