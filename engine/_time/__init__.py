"""Time as the law counts it: the working calendar and its overrides, the engine clock, deadlines, the
case's legal clock, deadline levels and the overdue report."""
