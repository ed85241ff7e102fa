"""One registry per extension point: built-ins register the same way extensions do."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownName(KeyError):
    """A config named something no module registered."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        super().__init__(name)
        self.kind, self.name, self.known = kind, name, known

    def __str__(self) -> str:
        return f"unknown {self.kind} {self.name!r}; expected one of: {', '.join(self.known)}"


class Registry(Generic[T]):
    """Name → implementation. Lazy entries ("module:attr") keep heavy imports off the CLI path."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._lazy: dict[str, str] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            self._items[name] = obj
            self._lazy.pop(name, None)
            return obj

        return deco

    def register_lazy(self, name: str, target: str) -> None:
        """Register "package.module:attr", imported on first `get`."""
        if name not in self._items:
            self._lazy[name] = target

    def get(self, name: str) -> T:
        if name in self._items:
            return self._items[name]
        if name in self._lazy:
            module, _, attr = self._lazy[name].partition(":")
            mod = importlib.import_module(module)
            if name not in self._items:  # the module may register itself on import
                self._items[name] = getattr(mod, attr)
            self._lazy.pop(name, None)
            return self._items[name]
        raise UnknownName(self.kind, name, self.names())

    def names(self) -> list[str]:
        return sorted({*self._items, *self._lazy})

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._lazy

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
