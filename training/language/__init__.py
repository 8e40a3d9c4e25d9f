"""The reader's language: which locale a request is shown in, and the header's switch.

The UI's source text is Chinese (the catalogs' message ids); ``training/translations`` holds
the other languages. A request is shown in the signed-in user's saved choice, else the
``lang`` cookie an anonymous visitor set with the switch, else the browser's
``Accept-Language``, else Chinese. The norm, the lessons and the question banks are Chinese
content in every language.
"""
