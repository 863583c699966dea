"""pytest set-up of the strata Python module tests: the module must import from the build."""
import strata

strata.set_log_level("warn")  # consolidation and build info lines would fill the test output
