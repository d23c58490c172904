"""`Info`, what every resolver receives: Strawberry's info over this project's request context.

A module of its own so that types and resolvers can name it without importing graph.context,
which builds the loaders, which build the types. Only the type checker needs to know which
context it is; at run time Strawberry only has to recognise the parameter as its info.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import strawberry

if TYPE_CHECKING:
    from graph.context import Context

    Info: TypeAlias = strawberry.Info[Context, None]
else:
    Info = strawberry.Info
