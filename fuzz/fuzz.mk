# Fuzzing targets (see README "Fuzzing"). Filled in by the fuzzing work.
check-fuzz:
	@echo "check-fuzz: no fuzz harnesses yet"
