"""SQLite engines: writers take the lock at BEGIN; read-only connections never wait for it."""
import threading

from sqlalchemy import Column, Integer, MetaData, Table, select

from shared.db import make_engine, read_only


def test_reader_does_not_wait_for_a_writer(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    md = MetaData()
    t = Table("t", md, Column("id", Integer, primary_key=True))
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(t.insert().values(id=1))
    holding, release = threading.Event(), threading.Event()

    def writer():
        with engine.begin() as conn:
            conn.execute(t.insert().values(id=2))
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    holding.wait(5)
    try:
        with read_only(engine) as conn:
            # Had the reader waited for the writer's lock, it would see the writer's row too.
            assert conn.execute(select(t.c.id)).scalars().all() == [1]
            assert not release.is_set() and thread.is_alive(), "read while the writer still held its lock"
    finally:
        release.set()
        thread.join()
    engine.dispose()
