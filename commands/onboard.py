"""`/partner onboard <partner> [done|undo <step>]`: the type's onboarding checklist."""

from __future__ import annotations

from views.messages import confirmation
from views.partner_card import onboarding_line
from views.text import a, escape, section
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command, shown
from commands.permissions import require_admin
from commands.refs import take_partner
from storage import audit, onboarding, webhooks
from storage.models import Partner, Stage

USAGE = "onboard <partner> [done <step>]"
DESCRIPTION = "show or advance the onboarding checklist (admins can `undo <step>`)"


def pick_step(partner: Partner, text: str) -> tuple[str, str]:
    steps = onboarding.STEPS[partner.type]
    wanted = text.casefold().strip()
    for key, label in steps:
        if wanted in (key, label.casefold()):
            return key, label
    starts = [(k, l) for k, l in steps if k.startswith(wanted) or l.casefold().startswith(wanted)] if wanted else []
    if len(starts) == 1:
        return starts[0]
    listed = ", ".join(f"`{k}`" for k, _ in steps)
    raise UserError(f"{shown(text)} is not {a(partner.type + ' onboarding step')}. Steps: {listed}.", usage=USAGE)


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    partner, index = take_partner(cmd, index, session=ctx.session, usage=USAGE)
    if index >= len(cmd.tokens):
        done = onboarding.steps_done(session=ctx.session, partner_id=partner.id)
        text = onboarding_line(onboarding.STEPS[partner.type], done, ctx.settings.zone)
        hint = f"Mark a step with `/partner onboard {escape(partner.name)} done &lt;step&gt;`."
        return Reply(text=f"{partner.name} onboarding", blocks=[section(f"*{escape(partner.name)}* · {text}"), section(hint)])
    verb = cmd.tokens[index].word
    if verb not in ("done", "undo"):
        raise UserError(f"Say `done &lt;step&gt;` (or `undo &lt;step&gt;` as an admin), not {shown(cmd.tokens[index].text)}.", usage=USAGE)
    key, label = pick_step(partner, cmd.rest(index + 1))
    if verb == "undo":
        require_admin(ctx, "undo an onboarding step")
        if not onboarding.unmark_step(session=ctx.session, partner=partner, step=key, now=ctx.now):
            raise UserError(f"*{label}* is not done for {escape(partner.name)}, so there is nothing to undo.")
        return Reply(text=f"Undid {label}.", blocks=confirmation(f"*{label}* is no longer done for *{escape(partner.name)}*."))
    before = {f: getattr(partner, f) for f in ("stage", "stage_changed_at", "onboarding_changed_at")}
    if not onboarding.mark_step(session=ctx.session, partner=partner, step=key, user_id=ctx.caller.user_id, now=ctx.now):
        return Reply(text=f"{label} was already done.", blocks=confirmation(f"*{label}* was already done for *{escape(partner.name)}*."))
    audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="step.done", summary=f"ticked {label} for {partner.name}",
                 undo={"partner_id": partner.id, "step": key, "fields": before}, now=ctx.now)
    done = onboarding.steps_done(session=ctx.session, partner_id=partner.id)
    total = len(onboarding.STEPS[partner.type])
    detail = f"{len(done)}/{total} steps done."
    if len(done) == total:
        hooks = ctx.settings.webhooks
        webhooks.emit(session=ctx.session, hooks=hooks, event="onboarding.completed", partner=partner, subject={}, now=ctx.now)
    if len(done) == total and partner.stage in (Stage.PROSPECT, Stage.ONBOARDING):
        previous = partner.stage
        partner.stage, partner.stage_changed_at = Stage.ACTIVE.value, ctx.now
        ctx.session.flush()
        webhooks.emit(session=ctx.session, hooks=hooks, event="partner.stage_changed", partner=partner,
                      subject={"stage": {"from": previous, "to": partner.stage}}, now=ctx.now)
        detail = f"Checklist complete: *{escape(partner.name)}* is now *active*. :tada:"
    return Reply(text=f"{label} done for {partner.name}.", blocks=confirmation(f"*{label}* done for *{escape(partner.name)}*.", detail=detail))
