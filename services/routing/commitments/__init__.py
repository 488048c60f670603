"""Commitments in place of proofs (告知承诺制, 国办发〔2020〕42号): the applicant's written commitment, the
owner's verification task, and what a commitment found false does to the case and the applicant's record."""
