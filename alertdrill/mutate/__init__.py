"""``alertdrill mutate``: the mutation score of a team's alert tests.

A green drill says the claims held, not that they would notice anything. This package makes
one-change mutants of a stack's configs (:mod:`.operators`, :mod:`.amops`, :mod:`.ruleops`),
sets aside those the static routing proves equivalent (:mod:`.equivalence`), validates the
rest with the real amtool/promtool and runs the scenarios that could see each one, stopping at
the first failed claim (:mod:`.selection`, :mod:`.order`, :mod:`.runner`), and reports the
score, who killed what, and for every survivor its diff and a claim that would catch it
(:mod:`.report`).
"""
