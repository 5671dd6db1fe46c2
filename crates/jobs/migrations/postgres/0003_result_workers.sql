-- Which replica wrote each result: operators can see how work was shared.
ALTER TABLE results ADD COLUMN worker TEXT;
