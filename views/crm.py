"""The CRM sync report as text (terminal, `partnerbot sync crm`, the job ledger's one-line detail)."""

from __future__ import annotations

from views.text import plural


def report_summary(report) -> str:
    """One line for the job ledger."""
    return (f"{report.matched}/{plural(report.deals_seen, 'deal')} matched ({report.revenue:,.2f}), "
            f"{plural(len(report.unmatched), 'unmatched name')}, {len(report.ambiguous)} ambiguous, "
            f"{report.without_partner} without partner, {len(report.without_amount)} without amount")


def report_text(report) -> str:
    """The full report: counts, names that matched no partner or several, and each value that changed."""
    lines = [f"CRM sync of {report.months[0]}…{report.months[-1]}" + (" (dry run: nothing written)" if report.dry_run else ""),
             f"  deals: {report.deals_seen}, matched to partners: {report.matched}, revenue {report.revenue:,.2f}"]
    if report.unmatched:
        lines.append("  unmatched partner names: " + ", ".join(f"{n} ({c})" for n, c in report.unmatched.most_common(20)))
    if report.ambiguous:
        lines.append("  ambiguous names (match several partners, counted for none): "
                     + ", ".join(f"{n} ({c})" for n, c in report.ambiguous.most_common(20)))
    if report.without_partner:
        lines.append(f"  deals without a partner: {report.without_partner}")
    if report.without_amount:
        lines.append(f"  deals without an amount (counted with revenue 0): {', '.join(report.without_amount[:20])}")
    lines += ["  " + change for change in report.changes[:200]]
    lines.append(f"  KPI values {'to write' if report.dry_run else 'written'}: {report.values_written}")
    return "\n".join(lines)


def change_line(name: str, metric: str, month: str, attribution: str, old, new) -> str:
    return f"{name} {metric} {month}{' influenced' if attribution == 'influenced' else ''}: {old if old is not None else '—'} → {new}"


def removed_line(name, metric: str, month: str, old) -> str:
    return f"{name} {metric} {month}: {old} → removed (no deals in the CRM)"
