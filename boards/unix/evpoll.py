"""The twin's poller for asyncio: sockets wait in the kernel, emulated UARTs are asked directly."""
# The unix port's select.poll checks an object without a file descriptor
# (our emulated UARTs) by sleeping 1 ms between checks, even when asked not
# to wait at all: with a UART read pending, every turn of the loop cost a
# millisecond and an hour of `advance` took most of a minute. This poller
# keeps the two apart: descriptor-backed streams go to a real select.poll,
# the UARTs are asked for their state, and the kernel wait is cut short for
# the moment the next byte lands on a UART (ready_in_ms()).
import select

_POLL = 3  # MP_STREAM_POLL


class TwinPoller:
    def __init__(self):
        self._kernel = select.poll()
        self._soft = {}  # object -> event mask, for streams without a descriptor

    @staticmethod
    def _is_soft(obj):
        return hasattr(obj, "ready_in_ms")

    def register(self, obj, mask=select.POLLIN | select.POLLOUT):
        if self._is_soft(obj):
            self._soft[obj] = mask
        else:
            self._kernel.register(obj, mask)

    def modify(self, obj, mask):
        if self._is_soft(obj):
            self._soft[obj] = mask
        else:
            self._kernel.modify(obj, mask)

    def unregister(self, obj):
        if self._is_soft(obj):
            self._soft.pop(obj, None)
        else:
            self._kernel.unregister(obj)

    def _soft_ready(self, out):
        wait = None
        for obj, mask in self._soft.items():
            ev = obj.ioctl(_POLL, mask)
            if ev:
                out.append((obj, ev))
            else:
                d = obj.ready_in_ms()
                if d is not None and (wait is None or d < wait):
                    wait = d
        return wait

    def ipoll(self, timeout=-1):
        ready = []
        wait = self._soft_ready(ready)
        if ready:
            timeout = 0
        elif wait is not None:
            wait = int(wait) + 1
            timeout = wait if timeout < 0 else min(timeout, wait)
        for obj, ev in self._kernel.ipoll(timeout):
            ready.append((obj, ev))  # ipoll reuses its tuple: copy it out
        if not ready and self._soft:
            self._soft_ready(ready)
        return ready

    def poll(self, timeout=-1):
        return self.ipoll(timeout)


def install():
    import asyncio.core as core

    core._io_queue.poller = TwinPoller()
