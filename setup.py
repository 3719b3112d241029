from setuptools import find_packages, setup

setup(
    name="sparklayer_erp",
    version="0.1.0",
    description="Self-hosted Dagster integration between SparkLayer (B2B ordering) and an ERP.",
    packages=find_packages(exclude=["sparklayer_erp_tests", "sparklayer_erp_tests.*"]),
    package_data={"sparklayer_erp": ["ledger/migrations/*.ini", "ledger/migrations/*.mako",
                                     "ledger/migrations/versions/*.py", "erp/tryton/*.conf",
                                     "erp/tryton/requirements.txt"]},
    python_requires=">=3.11,<3.15",
    install_requires=[
        "dagster==1.13.27",
        "dagster-webserver==1.13.27",
        "dagster-postgres==0.29.27",
        "pandas>=3,<4",
        "pandera>=0.35,<0.36",
        "httpx>=0.28,<0.29",
        "sqlalchemy>=2.0,<2.2",
        "alembic>=1.13,<2",
        "tenacity>=9,<10",
        "uvicorn>=0.30",
        "starlette>=0.40",
        "openpyxl>=3.1,<4",
        "psycopg2-binary>=2.9",
    ],
    extras_require={
        "dev": [
            "pytest>=9,<10",
            "hypothesis>=6.100",
            "ruff>=0.8",
            "playwright>=1.50",  # drives Debian's Chromium for the UI test; no browser download
        ],
    },
    entry_points={"console_scripts": ["sparklayer-erp=sparklayer_erp.cli:main"]},
)
