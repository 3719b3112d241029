"""The customer gate: which ERP customer records may be sent to SparkLayer.

A customer row that fails is held back (quarantined) for sales operations and SparkLayer keeps its last good
copy; it is sent by itself once corrected in the ERP. Amounts are exact ``Decimal`` values (see
``values.py`` for why object columns).
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing.pandas import Series

from sparklayer_erp.masterdata.gates.values import (
    CURRENCIES,
    CURRENCY_ERROR,
    EMAIL_PATTERN,
    is_address_list,
    is_amount,
    is_flag,
    is_whole_number,
)


class CustomersFrame(pa.DataFrameModel):
    """ERP customers as they will appear in SparkLayer: one row per ERP account."""

    account_code: Series[str] = pa.Field(
        unique=True, title="account code",
        description="The customer's account code in the ERP. It identifies the customer in both systems and "
                    "is stored in SparkLayer as the accounting id. Must be present and used by one customer "
                    "only.")
    name: Series[str] = pa.Field(
        title="company name",
        description="The company name buyers and staff see in SparkLayer.")
    email: Series[str] = pa.Field(
        title="e-mail address",
        description="The buyer's login e-mail address. Required; SparkLayer allows each address for one "
                    "customer only.")
    payment_terms: Series[str] = pa.Field(
        nullable=True, title="payment terms",
        description="The ERP's payment terms as written there, e.g. 'Net 30'. Empty if none are set.")
    payment_terms_days: Series[object] = pa.Field(
        nullable=True, coerce=True, title="payment terms (days)",
        description="Days the customer has to pay an invoice (net terms). Empty if none are set.")
    credit_limit: Series[object] = pa.Field(
        nullable=True, coerce=True, title="credit limit",
        description="The most the customer may owe on account, in the customer's currency. Empty means "
                    "the ERP sets no limit.")
    open_balance: Series[object] = pa.Field(
        coerce=True, title="open balance",
        description="What the customer owes now according to the ERP (negative if they are in credit). "
                    "SparkLayer shows this balance to the buyer.")
    on_credit_hold: Series[object] = pa.Field(
        coerce=True, title="credit hold",
        description="Yes if the account is on credit hold (on stop) in the ERP: the buyer can then only "
                    "pay by card.")
    price_level: Series[str] = pa.Field(
        nullable=True, title="price level",
        description="Code of the customer's price level list in the ERP (e.g. TRADE). Empty if none.")
    contract_price_list: Series[str] = pa.Field(
        nullable=True, title="contract price list",
        description="Code of the customer's own contract price list, which wins over the price level. "
                    "Empty if the customer has no contract prices.")
    currency: Series[str] = pa.Field(
        title="currency",
        description="The customer's trading currency (ISO code such as GBP).")
    addresses: Series[object] = pa.Field(
        coerce=True, title="addresses",
        description="The customer's delivery and invoice addresses from the ERP; the first is the default.")
    active: Series[object] = pa.Field(
        coerce=True, title="active",
        description="Yes if the account is open in the ERP.")

    @pa.check("account_code", "name", "email", error="must not be blank")
    def not_blank(cls, series: pd.Series) -> pd.Series:
        return series.str.strip().str.len() > 0

    @pa.check("payment_terms", "price_level", "contract_price_list",
              error="must be empty or a real value, not spaces")
    def blank_means_missing(cls, series: pd.Series) -> pd.Series:
        return series.str.strip().str.len() > 0

    @pa.check("email", error="is not a usable address (expected something like name@company.com)")
    def plausible_email(cls, series: pd.Series) -> pd.Series:
        return series.str.fullmatch(EMAIL_PATTERN)

    @pa.dataframe_check(error="e-mail address is also used by another customer in the ERP; SparkLayer "
                              "allows one customer per e-mail address")
    def email_used_once(cls, df: pd.DataFrame) -> pd.Series:
        emails = df["email"].str.strip().str.lower()
        return emails.isna() | ~emails.duplicated(keep=False)

    @pa.check("payment_terms_days", element_wise=True, ignore_na=False,
              error="must be empty or a whole number of days, 0 or more")
    def terms_days(cls, value: object) -> bool:
        return value is None or is_whole_number(value, minimum=0)

    @pa.check("credit_limit", element_wise=True, ignore_na=False,
              error="must be empty (no limit) or an amount of 0 or more")
    def credit_limit_amount(cls, value: object) -> bool:
        return value is None or is_amount(value, minimum=0)

    @pa.check("open_balance", element_wise=True, error="must be an amount")
    def balance_amount(cls, value: object) -> bool:
        return is_amount(value)

    @pa.check("on_credit_hold", "active", element_wise=True, error="must be yes or no")
    def yes_no(cls, value: object) -> bool:
        return is_flag(value)

    @pa.check("currency", error=CURRENCY_ERROR)
    def known_currency(cls, series: pd.Series) -> pd.Series:
        return series.isin(CURRENCIES)

    @pa.check("addresses", element_wise=True, error="must be a list of addresses")
    def address_list(cls, value: object) -> bool:
        return is_address_list(value)

    class Config:
        strict = True
