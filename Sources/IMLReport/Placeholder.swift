import IMLBase
