"""The suite itself: an app a test built is garbage once the test lets go of it (else every
later test's garbage collections walk every earlier app; conftest.release_built_apps)."""

from __future__ import annotations

import gc
import weakref

from api.app import create_app
from api.settings import Settings
from tests.conftest import release_built_apps


async def test_a_disposed_app_is_freed_once_fastapis_caches_let_go(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url))
    await app.state.database.dispose()
    handle = weakref.ref(app)
    del app
    gc.collect()
    assert handle() is not None, "FastAPI no longer holds apps: conftest's release can go"
    release_built_apps()
    gc.collect()
    assert handle() is None
