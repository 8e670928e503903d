"""The ``/entra help`` reply: every subcommand, what it does and an example to copy."""

from __future__ import annotations

from bot.blocks.message import Message, context, header, message, section
from bot.ids import COMMAND

SUBCOMMANDS: tuple[tuple[str, str, str], ...] = (
    ("help", "Show this list.", f"{COMMAND} help"),
    (
        "setup",
        "Admins: connect the Entra app registration (tenant, client, secret), the sync "
        "cadence, the report channel and the approvers.",
        f"{COMMAND} setup",
    ),
    (
        "schema",
        "Admins: create or complete the ENTRA schema and its Employee object type in Assets.",
        f"{COMMAND} schema",
    ),
    (
        "preview",
        "Show what a sync would change, with Approve and Reject buttons and a CSV of "
        "every change. Nothing is written until an approver approves.",
        f"{COMMAND} preview",
    ),
    (
        "sync",
        "Approvers: read, plan and apply right away, with progress and a report. "
        f"`{COMMAND} sync alice@example.com` (an email or Atlassian account id): only that "
        "person's changes, applied at once by an approver, or posted as a preview for an "
        "approver by anyone else.",
        f"{COMMAND} sync",
    ),
    (
        "explain",
        "One person: their Atlassian account, how they match in Entra ID, their Employee, "
        "what the next sync does for them and why, and their history. Only you see it.",
        f"{COMMAND} explain alice@example.com",
    ),
    (
        "status",
        "Last manual and scheduled sync, the current run, recent history and the next "
        "scheduled check.",
        f"{COMMAND} status",
    ),
)


def help_message() -> Message:
    """Ephemeral help: admins expect every subcommand listed with something to copy."""
    blocks = [
        header("Entra ID → Assets sync"),
        section(
            "Keeps Employee objects in Jira Service Management Assets in step with "
            "Microsoft Entra ID. Changes are previewed and approved here before they "
            "are written."
        ),
    ]
    blocks += [section(f"*{name}*: {what}\n`{example}`") for name, what, example in SUBCOMMANDS]
    blocks.append(context("The App Home tab shows the same status and the pending previews."))
    names = ", ".join(name for name, _, _ in SUBCOMMANDS)
    return message(f"{COMMAND} commands: {names}. Example: {COMMAND} preview", blocks)
