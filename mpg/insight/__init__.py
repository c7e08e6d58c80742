"""Why a car gets its number: contributions, what-if curves, similar cars, cars compared, and the data explored."""
