"""Packaging that pyproject.toml cannot say: the migrations travel inside the package.

The migrations live in the top-level `alembic/` folder (where developers and `alembic.ini`
expect them), but an installed Encore has no source tree beside it. So the wheel maps that
folder into the package as `db/migrations` (setuptools `package_dir`), and `db.migrate` finds
it with `importlib.resources`. `alembic/` itself gets no `__init__.py`: run from the checkout,
a regular package named `alembic` would shadow the alembic library.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["bot*", "cogs*", "db*", "sandbox*"]),
        "db.migrations",
        "db.migrations.versions",
    ],
    package_dir={"db.migrations": "alembic"},
    package_data={"db.migrations": ["script.py.mako"]},
)
