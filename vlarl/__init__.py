__version__ = "0.1.0"

import os as _os
# OpenMP threads that sleep instead of spinning while they wait for work. Set before torch is imported (libgomp
# reads it once). On a 2-core machine beside one other busy process, spinning threads made a batched decode and a
# PPO forward+backward about 6x slower with 2 torch threads; sleeping threads are as fast as 1 thread there
# (measured in the trainer notebook, "An iteration beside a busy process"). An explicit setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
