"""Borrowed array views for the compiled kernels.

Numba counts references to every array a compiled function receives or
unpacks from a tuple: an atomic increment and decrement per array per call of
a helper it cannot prune.  A kernel that passes its zone index (15 arrays) to
a helper per fix spent most of its time in those atomics (and, on several
threads, in cache-line ping-pong on the shared counters).

:func:`borrow` returns a view of an array with the same data, shape and
strides but no reference-counted owner (as ``numba.carray`` gives), so
passing it on costs nothing.  The caller keeps the original alive for as long
as the view is used: kernels borrow their *arguments* (alive for the whole
call) and never arrays they allocate or grow themselves.
"""

from __future__ import annotations

import numba
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def borrow(typingctx, arr):
    """A view of ``arr`` without an owner: valid while ``arr`` is alive."""
    if not isinstance(arr, numba.types.Array):
        return None

    def codegen(context, builder, sig, args):
        src = context.make_array(arr)(context, builder, value=args[0])
        out = context.make_array(arr)(context, builder)
        for name in ("data", "shape", "strides", "itemsize", "nitems"):
            setattr(out, name, getattr(src, name))
        out.meminfo = cgutils.get_null_value(out.meminfo.type)
        out.parent = cgutils.get_null_value(out.parent.type)
        return out._getvalue()

    return arr(arr), codegen


@numba.njit(cache=True, inline="always")
def borrow_grid(g):
    """:func:`borrow` applied to each array of a zone index's ``grid`` tuple."""
    top_off, top_n, ent_ptr, ent_zone, ent_state, ent_e0, ent_e1, cell_edges, cell_pure, refx, refy, ex0, ey0, ex1, ey1 = g
    return (
        borrow(top_off), borrow(top_n), borrow(ent_ptr), borrow(ent_zone), borrow(ent_state),
        borrow(ent_e0), borrow(ent_e1), borrow(cell_edges), borrow(cell_pure), borrow(refx), borrow(refy),
        borrow(ex0), borrow(ey0), borrow(ex1), borrow(ey1),
    )  # fmt: skip


@intrinsic
def alive(typingctx, *arrays):
    """Use ``arrays`` here, generating no code: numba releases an array after
    its last use, so owners of borrowed views call this after the views' last use."""
    sig = numba.types.none(numba.types.StarArgTuple(arrays))

    def codegen(context, builder, signature, args):
        return context.get_dummy_value()

    return sig, codegen
