"""One blueprint per part of the worklist: auth, worklist, tasks, intake, cases, guide."""
