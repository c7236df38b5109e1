"""Jobs: every writer of canonical state runs as a row that workers claim and run under a
lock per registry or flow, so that two runs of the same writer never overlap."""
