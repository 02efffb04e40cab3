# Asset types, assets, adoptions and care logs arrive with the adoption issue.
