"""Country files on S3-compatible storage (wiring): every key under
``countries/<schema>/`` of the bucket, never overwritten.

django-storages' S3Storage writes over an existing key by default, and its
``file_overwrite=False`` only asks the bucket whether a name is taken before
writing — two writers can both hear "free". Here the write itself is
conditional (``If-None-Match: *``): the bucket refuses to replace an object,
and the storage then picks another name, as the filesystem storage does.
Imported only when SMS_S3_BUCKET is set (settings) and by its tests.
"""

import mimetypes

from botocore.exceptions import ClientError
from django.core.exceptions import ImproperlyConfigured
from storages.backends.s3 import S3Storage
from storages.utils import clean_name, safe_join

from .storage import country_media_prefix

# What S3-compatible servers answer a conditional write whose key exists
# (412), or one that raced another write of the same key (409).
_TAKEN = {"PreconditionFailed", "ConditionalRequestConflict"}


class CountryS3Storage(S3Storage):
    # A class attribute, so django-storages' default (True) is not applied.
    file_overwrite = False

    def __init__(self, **settings):
        if settings.get("file_overwrite"):
            raise ImproperlyConfigured(
                "CountryS3Storage never overwrites a stored file: remove file_overwrite."
            )
        super().__init__(**settings)

    @property
    def location(self) -> str:
        # Read at every call: the connection's schema decides the prefix.
        return country_media_prefix()

    @location.setter
    def location(self, value):
        raise ImproperlyConfigured(
            "CountryS3Storage stores under countries/<schema>/: remove the location option."
        )

    def _key(self, name: str) -> str:
        return safe_join(self.location, clean_name(name))

    def _save(self, name, content):
        """Django's storage hook (Storage.save calls it with a name that was
        free a moment ago): a conditional PUT, and another name if the key was
        taken in between."""
        while True:
            params = self.get_object_parameters(name)
            if "ContentType" not in params:
                guessed, encoding = mimetypes.guess_type(name)
                params["ContentType"] = (
                    getattr(content, "content_type", None) or guessed or self.default_content_type
                )
                if encoding:
                    params["ContentEncoding"] = encoding
            if "ACL" not in params and self.default_acl:
                params["ACL"] = self.default_acl
            content.seek(0)
            try:
                self.connection.meta.client.put_object(
                    Bucket=self.bucket_name,
                    Key=self._key(name),
                    Body=content,
                    IfNoneMatch="*",
                    **params,
                )
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") not in _TAKEN:
                    raise
                name = self.get_available_name(name)
                continue
            return clean_name(name)
