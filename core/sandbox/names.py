"""Word lists the generated organisation draws from."""

from __future__ import annotations

FIRST_NAMES = (
    "Ada", "Adele", "Alex", "Amara", "Ana", "Anders", "Aria", "Arjun", "Bea", "Ben",
    "Bianca", "Carlos", "Chen", "Chloe", "Dana", "Daniel", "Diego", "Elena", "Eli",
    "Emeka", "Emma", "Farah", "Felix", "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jae",
    "Jamal", "Jo", "Julia", "Kai", "Kenji", "Lara", "Leo", "Lina", "Luca", "Maya",
    "Mei", "Milo", "Nadia", "Nia", "Noah", "Olga", "Omar", "Paula", "Pedro", "Priya",
    "Quinn", "Rafael", "Rosa", "Ruth", "Sam", "Sara", "Sofia", "Tariq", "Theo", "Uma",
    "Victor", "Wei", "Yara", "Yusuf", "Zoe",
)  # fmt: skip

LAST_NAMES = (
    "Abbott", "Adeyemi", "Alvarez", "Andersen", "Bauer", "Becker", "Brooks", "Castillo",
    "Chandra", "Costa", "Dubois", "Eriksson", "Fischer", "Garcia", "Haddad", "Hansen",
    "Ito", "Jensen", "Kaur", "Khan", "Kim", "Kowalski", "Larsen", "Lee", "Lopez",
    "Moreau", "Murphy", "Nakamura", "Novak", "Okafor", "Olsen", "Patel", "Petrov",
    "Quinn", "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Smith", "Suzuki",
    "Tanaka", "Torres", "Varga", "Wagner", "Walsh", "Wang", "Weber", "Yilmaz", "Zhang",
)  # fmt: skip

# Department -> job titles, head's title first.
DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "Engineering": ("VP Engineering", "Engineering Manager", "Software Engineer",
                    "Senior Software Engineer", "Site Reliability Engineer"),
    "Sales": ("VP Sales", "Sales Manager", "Account Executive", "Sales Development Rep"),
    "Marketing": ("VP Marketing", "Marketing Manager", "Content Strategist",
                  "Product Marketing Manager"),
    "Finance": ("CFO", "Finance Manager", "Accountant", "Financial Analyst"),
    "People": ("Chief People Officer", "HR Manager", "HR Business Partner", "Recruiter"),
    "IT": ("CIO", "IT Manager", "Service Desk Analyst", "Systems Administrator"),
    "Legal": ("General Counsel", "Legal Manager", "Paralegal", "Counsel"),
    "Operations": ("COO", "Operations Manager", "Operations Analyst", "Facilities Coordinator"),
}  # fmt: skip

EXECUTIVE_DEPARTMENT = "Executive"
CEO_TITLE = "Chief Executive Officer"
