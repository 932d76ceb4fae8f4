"""Parts every working area uses: access rules, live events, the mail outbox, the audit log."""
