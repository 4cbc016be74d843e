"""Set-up shared by tests/ and notebooks/ (nbval).

nbval stops each notebook's kernel with SIGKILL (``shutdown_kernel(now=True)``); JupyterLab stops
a kernel by asking it to shut down, so the kernel exits normally and a lab's exit handler cleans
up what it created. Notebook 03 relies on that: it keeps its lab to the end because its explorer
reads the registry's files while the learner clicks. Here nbval stops kernels as JupyterLab does,
so every notebook run under nbval also proves that a stopped kernel leaves nothing behind.
"""

import nbval.kernel


def _stop_as_jupyterlab_does(self):
    self.kc.stop_channels()
    self.km.shutdown_kernel(now=False)  # a shutdown request; killed only if it does not exit in time
    del self.km


nbval.kernel.RunningKernel.stop = _stop_as_jupyterlab_does
