# Put on PYTHONPATH by the test suite so every Python process it starts (notebook kernels
# included) installs the guards in tests/guard/lecture_guard.py.
import os

if os.environ.get("LECTURE_GUARDS") == "1":
    import lecture_guard

    lecture_guard.install()
