"""Word lists the sample generator draws titles, names and places from.

Kept apart from the logic so the generator modules stay short. Every list is a tuple (fixed order)
because positions feed seeded random draws: reordering a list changes the generated data.
"""

from __future__ import annotations

# (display name, product slug) pairs for catalog titles and the `products` JSON arrays.
PRODUCTS: tuple[tuple[str, str], ...] = (
    ("Azure Functions", "azure-functions"),
    ("Azure Storage", "azure-storage"),
    ("Azure Virtual Machines", "azure-virtual-machines"),
    ("Azure Kubernetes Service", "azure-kubernetes-service"),
    ("Azure Cosmos DB", "azure-cosmos-db"),
    ("Azure SQL Database", "azure-sql-database"),
    ("Azure Monitor", "azure-monitor"),
    ("Azure Key Vault", "azure-key-vault"),
    ("Azure DevOps", "azure-devops"),
    ("Azure AI Vision", "azure-computer-vision"),
    ("Azure OpenAI", "azure-openai"),
    ("Azure Virtual Network", "azure-virtual-network"),
    ("Microsoft Entra ID", "entra-id"),
    ("Microsoft Sentinel", "microsoft-sentinel"),
    ("Microsoft Defender", "microsoft-defender"),
    ("Microsoft Teams", "office-teams"),
    ("Microsoft Graph", "ms-graph"),
    ("Power BI", "power-bi"),
    ("Power Apps", "power-apps"),
    ("Power Automate", "power-automate"),
    ("Dynamics 365 Sales", "dynamics-sales"),
    ("Microsoft Fabric", "fabric"),
    ("GitHub Actions", "github"),
    ("PowerShell", "powershell"),
    (".NET", "dotnet"),
)

MODULE_TEMPLATES: tuple[str, ...] = (
    "Introduction to {p}",
    "Configure {p} {n}",
    "Secure {p} {n}",
    "Build {n} with {p}",
    "Monitor {p} {n}",
    "Deploy {n} to {p}",
    "Explore {p} {n}",
    "Manage {n} in {p}",
    "Automate {n} with {p}",
    "Troubleshoot {p} {n}",
)
MODULE_NOUNS: tuple[str, ...] = (
    "workloads",
    "identities",
    "networking",
    "data pipelines",
    "access policies",
    "solutions",
    "resources",
    "deployments",
    "reports",
    "applications",
    "backups",
    "alerts",
)

PATH_TEMPLATES: tuple[str, ...] = (
    "Get started with {p}",
    "Administer {p}",
    "Develop solutions with {p}",
    "Architect {p} solutions",
    "{p} fundamentals",
    "Implement security for {p}",
)

# Middle-unit slugs and titles; first unit is always an introduction, the last a summary.
UNIT_WORDS: tuple[tuple[str, str], ...] = (
    ("what-is", "What is it?"),
    ("how-it-works", "How it works"),
    ("when-to-use", "When to use it"),
    ("plan", "Plan your deployment"),
    ("configure", "Configure settings"),
    ("exercise-create", "Exercise - Create resources"),
    ("exercise-deploy", "Exercise - Deploy and test"),
    ("monitor", "Monitor and troubleshoot"),
    ("secure", "Secure access"),
    ("explore", "Explore the features"),
    ("knowledge-check", "Knowledge check"),
)

LEVELS: tuple[str, ...] = ("beginner", "intermediate", "advanced")
ROLES: tuple[str, ...] = (
    "administrator",
    "developer",
    "solution-architect",
    "data-analyst",
    "data-engineer",
    "ai-engineer",
    "security-engineer",
    "business-user",
    "maker",
    "student",
)
LANGUAGES: tuple[str, ...] = ("csharp", "python", "powershell", "azure-cli", "javascript", "sql")
SUBJECTS: tuple[str, ...] = (
    "artificial-intelligence",
    "cloud-computing",
    "data-management",
    "security",
    "networking",
    "app-development",
    "business-intelligence",
    "devops",
)
TASKS: tuple[str, ...] = (
    "Create a resource",
    "Configure access",
    "Deploy a solution",
    "Analyze data",
    "Monitor a workload",
    "Integrate services",
    "Troubleshoot issues",
    "Secure a deployment",
)

# (area, level) of certification titles "Microsoft Certified: <area> <level>".
CERTIFICATIONS: tuple[tuple[str, str], ...] = (
    ("Azure", "Fundamentals"),
    ("Azure AI", "Fundamentals"),
    ("Azure Data", "Fundamentals"),
    ("Power Platform", "Fundamentals"),
    ("Security, Compliance, and Identity", "Fundamentals"),
    ("Microsoft 365", "Fundamentals"),
    ("Dynamics 365", "Fundamentals"),
    ("Azure Administrator", "Associate"),
    ("Azure Developer", "Associate"),
    ("Azure AI Engineer", "Associate"),
    ("Azure Data Engineer", "Associate"),
    ("Azure Security Engineer", "Associate"),
    ("Azure Network Engineer", "Associate"),
    ("Azure Database Administrator", "Associate"),
    ("Azure Data Scientist", "Associate"),
    ("Power BI Data Analyst", "Associate"),
    ("Power Platform Developer", "Associate"),
    ("Power Platform Functional Consultant", "Associate"),
    ("Security Operations Analyst", "Associate"),
    ("Identity and Access Administrator", "Associate"),
    ("Teams Administrator", "Associate"),
    ("Fabric Analytics Engineer", "Associate"),
    ("DevOps Engineer", "Expert"),
    ("Azure Solutions Architect", "Expert"),
    ("Cybersecurity Architect", "Expert"),
    ("Power Platform Solution Architect", "Expert"),
    ("Microsoft 365 Administrator", "Expert"),
    ("Azure for SAP Workloads", "Specialty"),
    ("Azure Virtual Desktop", "Specialty"),
    ("Azure Cosmos DB Developer", "Specialty"),
)

APPLIED_SKILLS: tuple[str, ...] = (
    "Build an Azure AI Vision solution",
    "Build collaborative apps for Microsoft Teams",
    "Create an intelligent document processing solution",
    "Deploy and configure Azure Monitor",
    "Secure storage for Azure Files and Azure Blob Storage",
    "Configure secure access to your workloads using Azure networking",
    "Develop generative AI solutions with Azure OpenAI",
    "Implement a data analytics solution with Microsoft Fabric",
    "Create and manage canvas apps with Power Apps",
    "Automate workflows with Power Automate",
    "Deploy containers by using Azure Kubernetes Service",
    "Implement retrieval augmented generation with Azure AI Search",
    "Migrate SQL Server workloads to Azure SQL",
    "Secure Azure services and workloads with Microsoft Defender",
    "Configure SIEM security operations using Microsoft Sentinel",
    "Build a natural language processing solution",
    "Create serverless applications with Azure Functions",
    "Administer Active Directory Domain Services",
    "Deploy cloud-native apps using Azure Container Apps",
    "Implement security through a pipeline using Azure DevOps",
)

# Given names as displayed, with the ASCII form used in e-mail addresses.
GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("Adele", "adele"), ("Alex", "alex"), ("Allan", "allan"), ("Ana", "ana"),
    ("Anjali", "anjali"), ("Ben", "ben"), ("Carlos", "carlos"), ("Chen", "chen"),
    ("Christie", "christie"), ("Diego", "diego"), ("Elena", "elena"), ("Emily", "emily"),
    ("Fatima", "fatima"), ("Grady", "grady"), ("Hannah", "hannah"), ("Henrietta", "henrietta"),
    ("Hiroshi", "hiroshi"), ("Isaiah", "isaiah"), ("Joni", "joni"), ("José", "jose"),
    ("Kenji", "kenji"), ("Lee", "lee"), ("Lidia", "lidia"), ("Lynne", "lynne"),
    ("Megan", "megan"), ("Miriam", "miriam"), ("Nestor", "nestor"), ("Nikolai", "nikolai"),
    ("Olga", "olga"), ("Patti", "patti"), ("Pradeep", "pradeep"), ("Priya", "priya"),
    ("Raul", "raul"), ("Sakura", "sakura"), ("Søren", "soren"), ("Tomás", "tomas"),
    ("Wei", "wei"), ("Yasmin", "yasmin"), ("Zoë", "zoe"), ("Amara", "amara"),
)  # fmt: skip
SURNAMES: tuple[tuple[str, str], ...] = (
    ("Vance", "vance"), ("Wilber", "wilber"), ("Deyoung", "deyoung"), ("Garcia", "garcia"),
    ("Sharma", "sharma"), ("Walker", "walker"), ("Mendes", "mendes"), ("Wang", "wang"),
    ("Cline", "cline"), ("Ramírez", "ramirez"), ("Petrova", "petrova"), ("Johnson", "johnson"),
    ("Khan", "khan"), ("Archie", "archie"), ("Müller", "muller"), ("Cleveland", "cleveland"),
    ("Tanaka", "tanaka"), ("Henderson", "henderson"), ("Sherman", "sherman"),
    ("Gonçalves", "goncalves"), ("Suzuki", "suzuki"), ("Gu", "gu"), ("Oertel", "oertel"),
    ("Robinson", "robinson"), ("Bowen", "bowen"), ("Caron", "caron"), ("Celeste", "celeste"),
    ("Ivanov", "ivanov"), ("O'Brien", "obrien"), ("Fernandes", "fernandes"), ("Patel", "patel"),
    ("Iyer", "iyer"), ("Ortiz", "ortiz"), ("Sato", "sato"), ("Nielsen", "nielsen"),
    ("Silva", "silva"), ("Zhang", "zhang"), ("Haddad", "haddad"), ("Novak", "novak"),
    ("Okafor", "okafor"),
)  # fmt: skip

# One department holds a comma so CSV quoting is exercised in the Entra export.
DEPARTMENTS: tuple[str, ...] = (
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Human Resources",
    "IT",
    "Operations",
    "Legal",
    "Customer Success",
    "Research, Development",
)
JOB_TITLES: tuple[str, ...] = (
    "Software Engineer",
    "Senior Software Engineer",
    "Cloud Architect",
    "Data Analyst",
    "Data Engineer",
    "Security Analyst",
    "IT Administrator",
    "Product Manager",
    "Account Executive",
    "Marketing Manager",
    "Financial Analyst",
    "HR Business Partner",
    "Support Engineer",
    "Consultant",
    "Director",
)

# (usageLocation, city, state, country, postalCode, street, phone prefix, UTC offset in minutes,
# weight).
# The offset is used for the learner's datetimeoffset values, so a person's Learn timestamps
# carry the offset of the place the directory says they work.
LOCATIONS: tuple[tuple[str, str, str, str, str, str, str, int, float], ...] = (
    ("US", "Redmond", "WA", "United States", "98052", "1 Microsoft Way", "+1 425 555", -480, 0.22),
    ("US", "New York", "NY", "United States", "10001", "11 Times Square", "+1 212 555", -300, 0.12),
    (
        "US",
        "Chicago",
        "IL",
        "United States",
        "60601",
        "200 E Randolph St",
        "+1 312 555",
        -360,
        0.06,
    ),
    ("CA", "Toronto", "ON", "Canada", "M5H 2N2", "81 Bay St", "+1 416 555", -300, 0.05),
    (
        "BR",
        "São Paulo",
        "SP",
        "Brazil",
        "04543-907",
        "Av. Pres. Juscelino Kubitschek",
        "+55 11 5555",
        -180,
        0.05,
    ),
    ("GB", "London", "", "United Kingdom", "EC2A 2BB", "2 Kingdom St", "+44 20 7946", 0, 0.12),
    ("DE", "Munich", "BY", "Germany", "80807", "Walter-Gropius-Str. 5", "+49 89 3176", 60, 0.08),
    (
        "FR",
        "Paris",
        "",
        "France",
        "92130",
        "39 Quai du Président Roosevelt",
        "+33 1 5555",
        60,
        0.05,
    ),
    (
        "ZA",
        "Johannesburg",
        "GP",
        "South Africa",
        "2196",
        "3012 William Nicol Dr",
        "+27 11 555",
        120,
        0.03,
    ),
    ("IN", "Bengaluru", "KA", "India", "560071", "Embassy Golf Links", "+91 80 5555", 330, 0.14),
    ("JP", "Tokyo", "", "Japan", "108-0075", "2-16-3 Konan", "+81 3 5555", 540, 0.05),
    ("AU", "Sydney", "NSW", "Australia", "2113", "11 Talavera Rd", "+61 2 5555", 600, 0.03),
)
