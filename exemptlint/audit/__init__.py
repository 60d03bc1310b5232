"""``exemptlint audit``: the exemptions deployed in Azure, checked, compared with the code, and reported."""
