"""``coderag chat``: the multi-turn REPL over the question graph and what it shows."""
