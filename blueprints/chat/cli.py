"""Chat commands: applying the retention settings (run it daily from cron)."""
import click

from blueprints.chat import bp, retention
from common.clock import utcnow


@bp.cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count what would be removed; change nothing.")
def purge_command(dry_run):
    """Remove chat transcripts and anonymise customer names as each queue's retention says.

    Open (waiting or served) conversations are never touched; safe to run again at any time."""
    results, internal = retention.purge(utcnow(), dry_run=dry_run)
    verb_purged, verb_anonymised = ("would remove", "would anonymise") if dry_run else ("removed", "anonymised")
    for result in results:
        queue = result.queue
        kept = "not kept" if queue.keep_days == 0 else f"kept {queue.keep_days} d"
        click.echo(f"{queue.name} (#{queue.id}, {kept}): {verb_purged} {result.purged} transcript(s), "
                   f"{verb_anonymised} {result.anonymised} customer name(s)")
    click.echo(f"Internal chat: {verb_purged} {internal} message(s)")
    if dry_run:
        click.echo("Dry run: nothing was changed.")
